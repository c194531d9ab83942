// The payments service's API: public reads for the payer, internal charge and refund for the order saga.
import Type, { type Static } from 'typebox';
import { Money, StrictObject, Uuid } from './common.ts';

/** Test cards of the simulated processor; any other Luhn-valid number is approved. */
export const TEST_CARDS = {
  approves: '4242424242424242',
  declines: '4000000000000002',
  /** The processor never answers: for timeouts. */
  hangs: '4000000000000259',
} as const;

export const CardNumber = Type.String({
  pattern: '^[0-9]{12,19}$',
  description: 'digits only; Luhn-checked',
});

export const PaymentStatus = Type.Union([
  Type.Literal('SUCCEEDED'),
  Type.Literal('FAILED'),
  Type.Literal('REFUNDED'),
]);
export type PaymentStatus = Static<typeof PaymentStatus>;

export const Payment = Type.Object({ id: Uuid, orderId: Uuid, status: PaymentStatus, amount: Money });
export type Payment = Static<typeof Payment>;

export const PaymentQuery = StrictObject({ orderId: Type.Optional(Uuid) });
export type PaymentQuery = Static<typeof PaymentQuery>;

/**
 * A card token: what the orders service keeps instead of the card number. The same card always gets the same
 * token, so retries and request fingerprints stay consistent.
 */
export const CardToken = Type.String({ pattern: '^card_[0-9a-f]{32}$' });

/**
 * Internal `POST /internal/payments/cards`: keeps the card in the payments service and answers 201
 * `{ token, last4 }`; 400 problem INVALID_CARD when the number fails the Luhn check.
 */
export const TokeniseCard = StrictObject({ card: CardNumber });
export type TokeniseCard = Static<typeof TokeniseCard>;

export const TokenisedCard = Type.Object({ token: CardToken, last4: Type.String({ pattern: '^[0-9]{4}$' }) });
export type TokenisedCard = Static<typeof TokenisedCard>;

/**
 * Internal `POST /internal/payments/charges`, with an `Idempotency-Key` header (required).
 * 201 Payment SUCCEEDED; 402 problem PAYMENT_DECLINED (extension `payment`: the FAILED Payment);
 * 409 problem ORDER_CLOSED when the order was refunded first; 422 problem UNKNOWN_CARD when the token names no
 * card; the same key again returns the same answer; the same key with another body: 422.
 */
export const Charge = StrictObject({ orderId: Uuid, userId: Uuid, amount: Money, cardToken: CardToken });
export type Charge = Static<typeof Charge>;

/**
 * Internal `POST /internal/payments/refunds`, with an `Idempotency-Key` header (required).
 * Refunds the order's succeeded payment, if any, and closes the order to later charges either way:
 * 200 `{ orderId, refunded: Payment | null }`.
 */
export const Refund = StrictObject({ orderId: Uuid });
export type Refund = Static<typeof Refund>;

export const RefundResult = Type.Object({ orderId: Uuid, refunded: Type.Union([Payment, Type.Null()]) });
export type RefundResult = Static<typeof RefundResult>;
