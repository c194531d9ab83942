// Public order endpoints: place (with an Idempotency-Key), read, list and cancel.
import {
  IdempotencyKeyHeader,
  badRequest,
  idempotencyKeyOf,
  notFound,
  readSagaSteps,
  requireUser,
  sendReply,
  usersOnly,
  type App,
  type Pool,
} from '@souk/chassis';
import { Money, Problem, StrictObject, Uuid } from '@souk/contracts';
import Type from 'typebox';
import { decodeCursor, encodeCursor, isInstant, isLuhnValid, isUuid } from '@souk/kit';
import { orderTimeline, timelineGantt } from '../domain/order-timeline.ts';
import { readHistory } from '../data/order.repository.ts';
import { cancelSagaId } from '../sagas/cancel-order.saga.ts';
import { findOrder, listOrders, type OrderView } from '../data/order-view.repository.ts';
import type { Orders } from '../orders.ts';

const OrderLine = Type.Object({ productId: Uuid, quantity: Type.Integer(), unitPrice: Money });
const OrderResponse = Type.Object({
  id: Uuid,
  userId: Uuid,
  status: Type.Union([Type.Literal('PENDING'), Type.Literal('CONFIRMED'), Type.Literal('CANCELLED')]),
  items: Type.Array(OrderLine),
  total: Money,
  reason: Type.Optional(Type.String()),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

const PlaceOrder = StrictObject({
  items: Type.Array(
    StrictObject({ productId: Uuid, quantity: Type.Integer({ minimum: 1, maximum: 1000 }) }),
    {
      minItems: 1,
      maxItems: 50,
    },
  ),
  payment: StrictObject({ card: Type.String({ pattern: '^[0-9]{12,19}$', description: 'digits only' }) }),
});

const ListQuery = StrictObject({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
});

const orderNotFound = () => notFound('ORDER_NOT_FOUND', 'No such order.');

export function orderRoutes(app: App, orders: Orders, db: Pool): void {
  /** The order if the caller may see it; anyone else is told it does not exist. */
  const visibleOrder = async (id: string, caller: { sub: string; role: string }): Promise<OrderView> => {
    const order = isUuid(id) ? await findOrder(db, id) : undefined;
    if (order === undefined || (order.userId !== caller.sub && caller.role !== 'admin'))
      throw orderNotFound();
    return order;
  };

  app.post(
    '/api/orders',
    {
      onRequest: usersOnly,
      schema: {
        tags: ['orders'],
        headers: IdempotencyKeyHeader,
        body: PlaceOrder,
        response: {
          202: Type.Object({ id: Uuid, status: Type.Literal('PENDING') }),
          400: Problem,
          409: Problem,
          422: Problem,
        },
      },
    },
    async (request, reply) => {
      const user = requireUser(request);
      const key = idempotencyKeyOf(request);
      if (!isLuhnValid(request.body.payment.card)) {
        throw badRequest('INVALID_CARD', 'The card number is not valid.');
      }
      const placed = await orders.place(user.sub, key, request.body);
      if (placed.answer.ok) void reply.header('location', `/api/orders/${placed.answer.value.id}`);
      return sendReply(reply, placed);
    },
  );

  app.get(
    '/api/orders/:id',
    {
      onRequest: usersOnly,
      schema: {
        tags: ['orders'],
        params: StrictObject({ id: Type.String({ maxLength: 100 }) }),
        response: { 200: OrderResponse, 404: Problem },
      },
    },
    async (request) => visibleOrder(request.params.id, requireUser(request)),
  );

  app.get(
    '/api/orders',
    {
      onRequest: usersOnly,
      schema: {
        tags: ['orders'],
        querystring: ListQuery,
        response: {
          200: Type.Object({ items: Type.Array(OrderResponse), nextCursor: Type.Optional(Type.String()) }),
        },
      },
    },
    async (request) => {
      const user = requireUser(request);
      const limit = request.query.limit ?? 20;
      const after = request.query.cursor === undefined ? undefined : decodeOrderCursor(request.query.cursor);
      const items = await listOrders(db, user.sub, limit + 1, after);
      const page = items.slice(0, limit);
      const last = page.at(-1);
      return items.length > limit && last
        ? { items: page, nextCursor: encodeOrderCursor(last) }
        : { items: page };
    },
  );

  app.get(
    '/api/orders/:id/timeline',
    {
      onRequest: usersOnly,
      schema: {
        tags: ['orders'],
        summary:
          "The order's events and saga steps in time order; `?format=mermaid` draws them as a Gantt chart",
        params: StrictObject({ id: Type.String({ maxLength: 100 }) }),
        querystring: StrictObject({
          format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('mermaid')])),
        }),
      },
    },
    async (request, reply) => {
      const order = await visibleOrder(request.params.id, requireUser(request));
      const entries = orderTimeline(
        await readHistory(db, order.id),
        await readSagaSteps(db, [order.id, cancelSagaId(order.id)]),
      );
      if (request.query.format === 'mermaid')
        return reply.type('text/plain; charset=utf-8').send(timelineGantt(order.id, entries));
      return { items: entries };
    },
  );

  app.post(
    '/api/orders/:id/cancel',
    {
      onRequest: usersOnly,
      schema: {
        tags: ['orders'],
        params: StrictObject({ id: Type.String({ maxLength: 100 }) }),
        response: { 202: Type.Object({ id: Uuid, status: Type.String() }), 404: Problem, 409: Problem },
      },
    },
    async (request, reply) => {
      const order = await visibleOrder(request.params.id, requireUser(request));
      await orders.requestCancellation(order.id, requireUser(request).sub);
      const now = await findOrder(db, order.id);
      return reply
        .status(202)
        .header('location', `/api/orders/${order.id}`)
        .send({ id: order.id, status: now?.status ?? order.status });
    },
  );
}

const encodeOrderCursor = (order: OrderView) => encodeCursor([order.createdAt, order.id]);

function decodeOrderCursor(cursor: string): { createdAt: string; id: string } {
  const key = decodeCursor(cursor, 2, ([createdAt, id]) => isInstant(createdAt!) && isUuid(id!));
  if (key === undefined) throw badRequest('INVALID_CURSOR', 'The cursor is not one this service issued.');
  return { createdAt: key[0]!, id: key[1]! };
}
