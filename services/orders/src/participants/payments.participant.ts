// The payments service as orders sees it: a vault that swaps a card number for a token, one charge per order,
// and a refund that also closes the order to any charge still on its way.
import type { IdentitySigner, UpstreamClient } from '@souk/chassis';
import { PaymentsErrorCode, type Charge, type Payment, type TokenisedCard } from '@souk/contracts';
import { callParticipant } from './participant-call.ts';

export interface PaymentsParticipant {
  /** Hands the card to payments, which keeps it; orders keeps only the answer. The same card, the same token. */
  tokenise(card: string): Promise<TokenisedCard>;
  charge(charge: Charge, idempotencyKey: string): Promise<Payment>;
  refund(orderId: string, idempotencyKey: string): Promise<void>;
}

export function paymentsParticipant(
  upstream: UpstreamClient,
  identity: IdentitySigner,
  /** Read at each call (a live setting). */
  timeoutMs: () => number,
): PaymentsParticipant {
  return {
    tokenise: (card) =>
      callParticipant<TokenisedCard>(upstream, identity, {
        method: 'POST',
        path: '/internal/payments/cards',
        body: { card },
        timeoutMs: timeoutMs(),
      }),
    charge: (charge, idempotencyKey) =>
      callParticipant<Payment>(upstream, identity, {
        method: 'POST',
        path: '/internal/payments/charges',
        body: charge,
        idempotencyKey,
        timeoutMs: timeoutMs(),
        rejections: {
          [PaymentsErrorCode.PaymentDeclined]: () => 'payment declined',
          [PaymentsErrorCode.OrderClosed]: () => 'the order was closed before it was paid',
          [PaymentsErrorCode.OrderAlreadyPaid]: () => 'the order was already paid',
          [PaymentsErrorCode.UnknownCard]: () => 'the card is not on record',
        },
      }),
    async refund(orderId, idempotencyKey) {
      await callParticipant(upstream, identity, {
        method: 'POST',
        path: '/internal/payments/refunds',
        body: { orderId },
        idempotencyKey,
        timeoutMs: timeoutMs(),
      });
    },
  };
}
