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

export const CreateProduct = StrictObject({
  sku: Sku,
  name: ProductName,
  description: Description,
  price: Money,
  stock: Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'initial available units' }),
});
export type CreateProduct = Static<typeof CreateProduct>;

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
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
  q: Type.Optional(Type.String({ maxLength: 100 })),
});
export type ProductQuery = Static<typeof ProductQuery>;

/** Internal: hold stock for an order. Idempotent per reservation id. */
export const ReserveStock = StrictObject({
  reservationId: Uuid,
  items: Type.Array(StrictObject({ productId: Uuid, quantity: Quantity }), { minItems: 1, maxItems: 50 }),
});
export type ReserveStock = Static<typeof ReserveStock>;

export const Reservation = Type.Object({
  reservationId: Uuid,
  status: Type.Union([Type.Literal('RESERVED'), Type.Literal('COMMITTED'), Type.Literal('RELEASED')]),
  items: Type.Array(Type.Object({ productId: Uuid, quantity: Type.Integer(), unitPrice: Money })),
});
export type Reservation = Static<typeof Reservation>;
