// Queries of the read model.
import type { Queryable } from '@souk/chassis';
import type { Money, OrderLine } from '@souk/contracts';

export interface OrderView {
  id: string;
  userId: string;
  status: 'PENDING' | 'CONFIRMED' | 'CANCELLED';
  items: OrderLine[];
  total: Money;
  reason?: string;
  createdAt: string;
  updatedAt: string;
}

interface Row {
  id: string;
  user_id: string;
  status: OrderView['status'];
  items: OrderLine[];
  total: Money;
  reason: string | null;
  created_at: Date;
  updated_at: Date;
}

const toView = (row: Row): OrderView => ({
  id: row.id,
  userId: row.user_id,
  status: row.status,
  items: row.items,
  total: row.total,
  ...(row.reason === null ? {} : { reason: row.reason }),
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

export async function findOrder(db: Queryable, id: string): Promise<OrderView | undefined> {
  const { rows } = await db.query<Row>('SELECT * FROM orders_view WHERE id = $1', [id]);
  return rows[0] && toView(rows[0]);
}

/** A user's orders, newest first, after the keyset cursor (created_at, id) when one is given. */
export async function listOrders(
  db: Queryable,
  userId: string,
  limit: number,
  after?: { createdAt: string; id: string },
): Promise<OrderView[]> {
  const { rows } = await db.query<Row>(
    `SELECT * FROM orders_view
     WHERE user_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))
     ORDER BY created_at DESC, id DESC LIMIT $4`,
    [userId, after?.createdAt ?? null, after?.id ?? null, limit],
  );
  return rows.map(toView);
}
