// The inventory service's stable error codes, as plain data: the HTTP layer turns a rejection into a problem.
export type InventoryErrorCode =
  | 'PRODUCT_NOT_FOUND'
  | 'SKU_TAKEN'
  | 'INVALID_CURSOR'
  | 'UNKNOWN_PRODUCT'
  | 'MIXED_CURRENCIES'
  | 'INSUFFICIENT_STOCK'
  | 'RESERVATION_NOT_FOUND'
  | 'RESERVATION_RELEASED'
  | 'RESERVATION_MISMATCH';

export interface Rejection {
  readonly status: 400 | 404 | 409 | 422;
  readonly code: InventoryErrorCode;
  readonly detail: string;
  readonly extensions?: Readonly<Record<string, unknown>>;
}

/** What a use case answers: a value, or the reason it was refused. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; rejection: Rejection };

export const accept = <T>(value: T): Outcome<T> => ({ ok: true, value });
export const refuse = (rejection: Rejection): { ok: false; rejection: Rejection } => ({
  ok: false,
  rejection,
});

export const productNotFound = (id: string): Rejection => ({
  status: 404,
  code: 'PRODUCT_NOT_FOUND',
  detail: `No product ${id}.`,
});

export const skuTaken = (sku: string): Rejection => ({
  status: 409,
  code: 'SKU_TAKEN',
  detail: `A product with SKU ${sku} already exists (SKUs compare case-insensitively).`,
});

export const invalidCursor = (): Rejection => ({
  status: 400,
  code: 'INVALID_CURSOR',
  detail: 'The cursor is not one this service issued; start again without it.',
});

export const unknownProduct = (productId: string): Rejection => ({
  status: 422,
  code: 'UNKNOWN_PRODUCT',
  detail: `No product ${productId}.`,
  extensions: { productId },
});

export const mixedCurrencies = (currencies: readonly string[]): Rejection => ({
  status: 422,
  code: 'MIXED_CURRENCIES',
  detail: `One reservation holds one currency; these items are priced in ${currencies.join(', ')}.`,
  extensions: { currencies },
});

export const insufficientStock = (productId: string, requested: number, available: number): Rejection => ({
  status: 409,
  code: 'INSUFFICIENT_STOCK',
  detail: `Product ${productId} has ${available} available; ${requested} requested.`,
  extensions: { productId, requested, available },
});

export const reservationNotFound = (id: string): Rejection => ({
  status: 404,
  code: 'RESERVATION_NOT_FOUND',
  detail: `No reservation ${id}.`,
});

export const reservationReleased = (id: string): Rejection => ({
  status: 409,
  code: 'RESERVATION_RELEASED',
  detail: `Reservation ${id} was released; it cannot be reserved or committed again.`,
  extensions: { reservationId: id },
});

export const reservationMismatch = (id: string): Rejection => ({
  status: 422,
  code: 'RESERVATION_MISMATCH',
  detail: `Reservation ${id} already exists with different items.`,
  extensions: { reservationId: id },
});
