// Notifications in PostgreSQL: recorded once per event, read back a page at a time by their owner.
import type { Queryable } from '@souk/chassis';
import type { Notification } from '@souk/contracts';
import type { NotificationDraft } from '../domain/notification.model.ts';
import type { NotificationPosition } from '../domain/notification-page.model.ts';

interface NotificationRow {
  id: string;
  type: string;
  message: string;
  order_id: string | null;
  created_at: Date;
}

const toNotification = (row: NotificationRow): Notification => ({
  id: row.id,
  type: row.type,
  message: row.message,
  ...(row.order_id === null ? {} : { orderId: row.order_id }),
  createdAt: row.created_at.toISOString(),
});

export interface NotificationPageQuery {
  userId: string;
  limit: number;
  after?: NotificationPosition | undefined;
}

export class NotificationsRepository {
  readonly #db: Queryable;

  constructor(db: Queryable) {
    this.#db = db;
  }

  /** Records the draft under `id`; false when its event already made a notification. */
  async record(tx: Queryable, id: string, draft: NotificationDraft, recordedAt: Date): Promise<boolean> {
    const { rowCount } = await tx.query(
      `INSERT INTO notifications (id, event_id, user_id, type, subject, message, order_id, created_at, recorded_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, date_trunc('milliseconds', $8::timestamptz), $9)
       ON CONFLICT ON CONSTRAINT notifications_event_id_key DO NOTHING`,
      [
        id,
        draft.eventId,
        draft.userId,
        draft.type,
        draft.subject,
        draft.message,
        draft.orderId ?? null,
        draft.createdAt,
        recordedAt,
      ],
    );
    return rowCount === 1;
  }

  /** One page of a user's notifications, newest first; `next` is where the following page starts. */
  async page(query: NotificationPageQuery): Promise<{ items: Notification[]; next?: NotificationPosition }> {
    const values: unknown[] = [query.userId];
    let after = '';
    if (query.after !== undefined) {
      values.push(query.after.createdAt, query.after.id);
      after = 'AND (created_at, id) < ($2::timestamptz, $3::uuid)';
    }
    values.push(query.limit + 1);
    const { rows } = await this.#db.query<NotificationRow>(
      `SELECT id, type, message, order_id, created_at FROM notifications
       WHERE user_id = $1 ${after}
       ORDER BY created_at DESC, id DESC LIMIT $${values.length}`,
      values,
    );
    const items = rows.slice(0, query.limit).map(toNotification);
    const last = items.at(-1);
    return rows.length > query.limit && last
      ? { items, next: { createdAt: last.createdAt, id: last.id } }
      : { items };
  }
}
