// The inventory service's stable error codes, as plain data: the HTTP layer turns a rejection into a problem.
import {
  InventoryErrorCode,
  type Outcome as ContractOutcome,
  type Rejection as ContractRejection,
} from '@souk/contracts';

export type Rejection = ContractRejection<InventoryErrorCode, 400 | 404 | 409 | 422>;
export type Outcome<T> = ContractOutcome<T, Rejection>;
export { accept, refuse } from '@souk/contracts';

export const productNotFound = (id: string): Rejection => ({
  status: 404,
  code: InventoryErrorCode.ProductNotFound,
  detail: `No product ${id}.`,
});

export const skuTaken = (sku: string): Rejection => ({
  status: 409,
  code: InventoryErrorCode.SkuTaken,
  detail: `A product with SKU ${sku} already exists (SKUs compare case-insensitively).`,
});

export const invalidCursor = (): Rejection => ({
  status: 400,
  code: InventoryErrorCode.InvalidCursor,
  detail: 'The cursor is not one this service issued; start again without it.',
});

export const unknownProduct = (productId: string): Rejection => ({
  status: 422,
  code: InventoryErrorCode.UnknownProduct,
  detail: `No product ${productId}.`,
  extensions: { productId },
});

export const mixedCurrencies = (currencies: readonly string[]): Rejection => ({
  status: 422,
  code: InventoryErrorCode.MixedCurrencies,
  detail: `One reservation holds one currency; these items are priced in ${currencies.join(', ')}.`,
  extensions: { currencies },
});

export const insufficientStock = (productId: string, requested: number, available: number): Rejection => ({
  status: 409,
  code: InventoryErrorCode.InsufficientStock,
  detail: `Product ${productId} has ${available} available; ${requested} requested.`,
  extensions: { productId, requested, available },
});

export const reservationNotFound = (id: string): Rejection => ({
  status: 404,
  code: InventoryErrorCode.ReservationNotFound,
  detail: `No reservation ${id}.`,
});

export const reservationReleased = (id: string): Rejection => ({
  status: 409,
  code: InventoryErrorCode.ReservationReleased,
  detail: `Reservation ${id} was released; it cannot be reserved or committed again.`,
  extensions: { reservationId: id },
});

export const reservationMismatch = (id: string): Rejection => ({
  status: 422,
  code: InventoryErrorCode.ReservationMismatch,
  detail: `Reservation ${id} already exists with different items.`,
  extensions: { reservationId: id },
});
