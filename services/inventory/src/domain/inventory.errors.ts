// The inventory service's stable error codes, as plain data: the HTTP layer turns a rejection into a problem.
import type { Outcome as ContractOutcome, Rejection as ContractRejection } from '@souk/contracts';

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

export type Rejection = ContractRejection<InventoryErrorCode, 400 | 404 | 409 | 422>;
export type Outcome<T> = ContractOutcome<T, Rejection>;
export { accept, refuse } from '@souk/contracts';

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
