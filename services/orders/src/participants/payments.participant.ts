// The payments service as the order saga sees it: one charge per order, and a refund that also closes the
// order to any charge still on its way.
import type { IdentitySigner, UpstreamClient } from '@souk/chassis';
import type { Money, Payment } from '@souk/contracts';
import { callParticipant } from './participant-call.ts';

export interface PaymentsParticipant {
  charge(
    charge: { orderId: string; userId: string; amount: Money; card: string },
    idempotencyKey: string,
  ): Promise<Payment>;
  refund(orderId: string, idempotencyKey: string): Promise<void>;
}

export function paymentsParticipant(
  upstream: UpstreamClient,
  identity: IdentitySigner,
  timeoutMs: number,
): PaymentsParticipant {
  return {
    charge: (charge, idempotencyKey) =>
      callParticipant<Payment>(upstream, identity, {
        method: 'POST',
        path: '/internal/payments/charges',
        body: charge,
        idempotencyKey,
        timeoutMs,
        rejections: {
          PAYMENT_DECLINED: () => 'payment declined',
          ORDER_CLOSED: () => 'the order was closed before it was paid',
          ORDER_ALREADY_PAID: () => 'the order was already paid',
        },
      }),
    async refund(orderId, idempotencyKey) {
      await callParticipant(upstream, identity, {
        method: 'POST',
        path: '/internal/payments/refunds',
        body: { orderId },
        idempotencyKey,
        timeoutMs,
      });
    },
  };
}
