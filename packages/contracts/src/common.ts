import Type, { type Static, type TProperties } from 'typebox';

/** An object schema that rejects unknown fields: the contract answers them with 400. */
export const StrictObject = <T extends TProperties>(properties: T, options: { description?: string } = {}) =>
  Type.Object(properties, { additionalProperties: false, ...options });

export const Currency = Type.String({
  pattern: '^[A-Z]{3}$',
  description: 'ISO 4217 code',
  examples: ['USD'],
});

/** Money is integer minor units with a currency: 1999 USD is $19.99. */
export const Money = StrictObject({
  amount: Type.Integer({ minimum: 0, maximum: 100_000_000_00, description: 'minor units' }),
  currency: Currency,
});
export type Money = Static<typeof Money>;

/** A canonical UUID only: the `uuid` format alone also admits a `urn:uuid:` prefix the database refuses. */
export const Uuid = Type.String({
  format: 'uuid',
  pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
});

export const IdParams = StrictObject({ id: Uuid });
export type IdParams = Static<typeof IdParams>;

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    code: Type.String(),
    instance: Type.Optional(Type.String()),
    requestId: Type.Optional(Type.String()),
  },
  // Open: a response schema is also a serializer, and a closed one would drop extension members.
  { description: 'RFC 9457 problem details', additionalProperties: true },
);

export const Role = Type.Union([Type.Literal('customer'), Type.Literal('admin')]);
export type Role = Static<typeof Role>;

export const Page = <T extends Parameters<typeof Type.Array>[0]>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: Type.Optional(Type.String()) });
