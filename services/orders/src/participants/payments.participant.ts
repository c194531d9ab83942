// The payments service as the order saga sees it: one charge per order, and a refund that also closes the
// order to any charge still on its way.
import type { IdentitySigner, UpstreamClient } from '@souk/chassis';
import { PaymentsErrorCode, type Money, type Payment } from '@souk/contracts';
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
          [PaymentsErrorCode.PaymentDeclined]: () => 'payment declined',
          [PaymentsErrorCode.OrderClosed]: () => 'the order was closed before it was paid',
          [PaymentsErrorCode.OrderAlreadyPaid]: () => 'the order was already paid',
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
