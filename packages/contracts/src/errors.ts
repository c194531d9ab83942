// The stable error codes that services answer one another with: the service that raises a code and the one
// that matches it both name it from here, so a renamed code breaks the build instead of a saga.

/** Any service taking an Idempotency-Key. */
export const IdempotencyErrorCode = {
  KeyRequired: 'IDEMPOTENCY_KEY_REQUIRED',
  KeyInvalid: 'IDEMPOTENCY_KEY_INVALID',
  KeyReused: 'IDEMPOTENCY_KEY_REUSED',
  RequestInProgress: 'REQUEST_IN_PROGRESS',
} as const;
export type IdempotencyErrorCode = (typeof IdempotencyErrorCode)[keyof typeof IdempotencyErrorCode];

export const InventoryErrorCode = {
  ProductNotFound: 'PRODUCT_NOT_FOUND',
  SkuTaken: 'SKU_TAKEN',
  InvalidCursor: 'INVALID_CURSOR',
  UnknownProduct: 'UNKNOWN_PRODUCT',
  MixedCurrencies: 'MIXED_CURRENCIES',
  InsufficientStock: 'INSUFFICIENT_STOCK',
  ReservationNotFound: 'RESERVATION_NOT_FOUND',
  ReservationReleased: 'RESERVATION_RELEASED',
  ReservationMismatch: 'RESERVATION_MISMATCH',
} as const;
export type InventoryErrorCode = (typeof InventoryErrorCode)[keyof typeof InventoryErrorCode];

export const PaymentsErrorCode = {
  PaymentInProgress: 'PAYMENT_IN_PROGRESS',
  PaymentDeclined: 'PAYMENT_DECLINED',
  OrderClosed: 'ORDER_CLOSED',
  OrderAlreadyPaid: 'ORDER_ALREADY_PAID',
  ProcessorTimeout: 'PROCESSOR_TIMEOUT',
  ProcessorFailed: 'PROCESSOR_FAILED',
  InvalidCard: 'INVALID_CARD',
  UnknownCard: 'UNKNOWN_CARD',
} as const;
export type PaymentsErrorCode = (typeof PaymentsErrorCode)[keyof typeof PaymentsErrorCode];
