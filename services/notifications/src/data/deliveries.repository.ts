// The delivery log: every attempt to reach a user outside the app. It alone decides whether an email went out.
import type { Queryable } from '@souk/chassis';

export type Channel = 'email';

export interface Delivery {
  notificationId: string;
  channel: Channel;
  status: 'sent' | 'failed';
  recipient: string;
  error?: string | undefined;
  at: Date;
}

export interface EmailJob {
  notificationId: string;
  /** Unknown until the user's user.registered has arrived. */
  to: string | undefined;
  subject: string;
  text: string;
  sent: boolean;
  failures: number;
  /** Another sender claimed the email and its claim has not run out. */
  claimed: boolean;
}

export interface RetryPolicy {
  maxAttempts: number;
  retryBaseDelayMs: number;
}

export class DeliveriesRepository {
  readonly #db: Queryable;

  constructor(db: Queryable) {
    this.#db = db;
  }

  /**
   * Locks the notification for one sender and reads what it must send, what was tried already and whether
   * someone claimed it. Undefined when there is no such notification or another transaction holds it. Call
   * inside a short transaction, and claim the email there (`claimEmail`) before sending it outside.
   */
  async lockEmail(tx: Queryable, notificationId: string): Promise<EmailJob | undefined> {
    const locked = await tx.query<{
      subject: string;
      message: string;
      email: string | null;
      claimed: boolean;
    }>(
      `SELECT n.subject, n.message, r.email, coalesce(n.email_claimed_until > now(), false) AS claimed
       FROM notifications n LEFT JOIN recipients r ON r.user_id = n.user_id
       WHERE n.id = $1 FOR UPDATE OF n SKIP LOCKED`,
      [notificationId],
    );
    const row = locked.rows[0];
    if (row === undefined) return undefined;
    // A statement of its own, after the lock: it sees everything the previous holder committed.
    const history = await tx.query<{ sent: boolean; failures: number }>(
      `SELECT coalesce(bool_or(status = 'sent'), false) AS sent,
              count(*) FILTER (WHERE status = 'failed')::int AS failures
       FROM deliveries WHERE notification_id = $1 AND channel = 'email'`,
      [notificationId],
    );
    const { sent, failures } = history.rows[0]!;
    return {
      notificationId,
      to: row.email ?? undefined,
      subject: row.subject,
      text: row.message,
      sent,
      failures,
      claimed: row.claimed,
    };
  }

  /** Keeps other senders off the notification's email for `claimMs`; call after `lockEmail`, in its transaction. */
  async claimEmail(tx: Queryable, notificationId: string, claimMs: number): Promise<void> {
    await tx.query(
      `UPDATE notifications SET email_claimed_until = now() + $2 * interval '1 millisecond' WHERE id = $1`,
      [notificationId, claimMs],
    );
  }

  /**
   * Logs the attempt and lets the claim go, in one statement. A second success (a sender whose claim ran out
   * while it was still sending) is not logged twice.
   */
  async log(db: Queryable, delivery: Delivery): Promise<void> {
    await db.query(
      `WITH logged AS (
         INSERT INTO deliveries (notification_id, channel, status, recipient, error, at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (notification_id, channel) WHERE status = 'sent' DO NOTHING)
       UPDATE notifications SET email_claimed_until = NULL WHERE id = $1`,
      [
        delivery.notificationId,
        delivery.channel,
        delivery.status,
        delivery.recipient,
        delivery.error ?? null,
        delivery.at,
      ],
    );
  }

  /**
   * Notifications recorded between `window` and `grace` ago whose email has not gone out, may be tried again and
   * whose backoff has passed: the ones an in-process retry lost, to a restart for instance.
   */
  async dueEmails(
    now: Date,
    policy: RetryPolicy & { graceMs: number; windowMs: number },
    limit: number,
  ): Promise<string[]> {
    const { rows } = await this.#db.query<{ id: string }>(
      `SELECT n.id
       FROM notifications n
       JOIN recipients r ON r.user_id = n.user_id
       CROSS JOIN LATERAL (
         SELECT coalesce(bool_or(d.status = 'sent'), false) AS sent,
                count(*) FILTER (WHERE d.status = 'failed') AS failures,
                max(d.at) AS last_at
         FROM deliveries d WHERE d.notification_id = n.id AND d.channel = 'email') h
       WHERE n.recorded_at > $1::timestamptz - $2 * interval '1 millisecond'
         AND n.recorded_at <= $1::timestamptz - $3 * interval '1 millisecond'
         AND NOT h.sent
         AND h.failures < $4
         AND (h.last_at IS NULL
              OR h.last_at <= $1::timestamptz - $5 * power(2, h.failures - 1) * interval '1 millisecond')
       ORDER BY n.recorded_at
       LIMIT $6`,
      [now, policy.windowMs, policy.graceMs, policy.maxAttempts, policy.retryBaseDelayMs, limit],
    );
    return rows.map((row) => row.id);
  }
}
