// The inventory service's public and internal API: products, stock and reservations.
import Type, { type Static } from 'typebox';
import { Money, StrictObject, Uuid } from './common.ts';

export const Sku = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' });
const ProductName = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' });
const Description = Type.String({ maxLength: 5000 });
const Quantity = Type.Integer({ minimum: 1, maximum: 1_000_000 });

export const Product = Type.Object({
  id: Uuid,
  sku: Type.String(),
  name: Type.String(),
  description: Type.String(),
  price: Money,
  stock: Type.Object({ available: Type.Integer() }),
});
export type Product = Static<typeof Product>;

export const ProductPage = Type.Object({
  items: Type.Array(Product),
  nextCursor: Type.Optional(Type.String({ description: 'absent on the last page' })),
});
export type ProductPage = Static<typeof ProductPage>;

export const CreateProduct = StrictObject({
  sku: Sku,
  name: ProductName,
  description: Description,
  price: Money,
  stock: Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'initial available units' }),
});
export type CreateProduct = Static<typeof CreateProduct>;

/** Every field is optional; an empty patch changes nothing and answers the product as it is. */
export const UpdateProduct = StrictObject({
  name: Type.Optional(ProductName),
  description: Type.Optional(Description),
  price: Type.Optional(Money),
});
export type UpdateProduct = Static<typeof UpdateProduct>;

export const Restock = StrictObject({ quantity: Quantity });
export type Restock = Static<typeof Restock>;

export const ProductQuery = StrictObject({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 2048, description: 'opaque; from a previous page' })),
  q: Type.Optional(Type.String({ maxLength: 100, description: 'matches name, sku or description' })),
});
export type ProductQuery = Static<typeof ProductQuery>;

/** Internal: the current prices of several products at once (an order's lines), in one call. */
export const PriceQuery = StrictObject({
  productIds: Type.Array(Uuid, { minItems: 1, maxItems: 50, uniqueItems: true }),
});
export type PriceQuery = Static<typeof PriceQuery>;

/** A product that does not exist is missing from `items`. */
export const PriceList = Type.Object({
  items: Type.Array(Type.Object({ productId: Uuid, price: Money })),
});
export type PriceList = Static<typeof PriceList>;

/** Internal: hold stock for an order. Idempotent per reservation id. */
export const ReserveStock = StrictObject({
  reservationId: Uuid,
  items: Type.Array(StrictObject({ productId: Uuid, quantity: Quantity }), {
    minItems: 1,
    maxItems: 50,
  }),
});
export type ReserveStock = Static<typeof ReserveStock>;

export const ReservationParams = StrictObject({ id: Uuid });
export type ReservationParams = Static<typeof ReservationParams>;

export const ReservationStatus = Type.Union([
  Type.Literal('RESERVED'),
  Type.Literal('COMMITTED'),
  Type.Literal('RELEASED'),
]);
export type ReservationStatus = Static<typeof ReservationStatus>;

/** A reservation released before it was ever made (a tombstone) has no items. */
export const Reservation = Type.Object({
  reservationId: Uuid,
  status: ReservationStatus,
  items: Type.Array(Type.Object({ productId: Uuid, quantity: Type.Integer(), unitPrice: Money })),
});
export type Reservation = Static<typeof Reservation>;
