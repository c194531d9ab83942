// Orders as stored: an event stream per order in the event store, and the read model rewritten with every
// append. Writers of one order serialise on its read-model row.
import { eventStore, type Queryable, type Transaction } from '@souk/chassis';
import { evolve, replay, type Order, type OrderEvent } from '../domain/order.ts';

const streamOf = (orderId: string) => `order-${orderId}`;

/** Loads the order for a change, locking it until the transaction ends. */
export async function loadForUpdate(tx: Transaction, orderId: string): Promise<Order | undefined> {
  await tx.query('SELECT 1 FROM orders_view WHERE id = $1 FOR UPDATE', [orderId]);
  return replay(await readEvents(tx, orderId));
}

/** The order's events with the moment each was recorded, for its timeline. */
export async function readHistory(db: Queryable, orderId: string): Promise<{ type: string; at: Date }[]> {
  const stored = await eventStore.readStream(db, streamOf(orderId));
  return stored.map((event) => ({ type: event.type, at: event.recordedAt }));
}

export async function readEvents(db: Queryable, orderId: string): Promise<OrderEvent[]> {
  const stored = await eventStore.readStream<OrderEvent['data']>(db, streamOf(orderId));
  return stored.map((event) => ({ type: event.type, data: event.data }) as OrderEvent);
}

/** Appends the events after the order's current version and rewrites its read-model row. */
export async function save(
  tx: Transaction,
  before: Order | undefined,
  events: readonly OrderEvent[],
): Promise<Order | undefined> {
  if (events.length === 0) return before;
  const orderId = before?.id ?? (events[0]?.type === 'OrderPlaced' ? events[0].data.orderId : undefined);
  if (orderId === undefined) throw new Error('a new order starts with OrderPlaced');
  await eventStore.append(tx, streamOf(orderId), before?.version ?? 0, events);
  const after = events.reduce<Order | undefined>(evolve, before)!;
  await tx.query(
    `INSERT INTO orders_view (id, user_id, status, items, total, reason, cancellation_requested, version, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (id) DO UPDATE SET status = $3, items = $4, total = $5, reason = $6, cancellation_requested = $7,
       version = $8, updated_at = $10`,
    [
      after.id,
      after.userId,
      after.status,
      JSON.stringify(after.items),
      after.total,
      after.reason ?? null,
      after.cancellationRequested,
      after.version,
      after.createdAt,
      after.updatedAt,
    ],
  );
  return after;
}
