// The inbox: a consumer records each message it applied, in the same transaction as the effect, so a message
// delivered twice (at-least-once transports, outbox re-publishes) changes state once.
import { withTransaction, type Pool, type Queryable, type Transaction } from '../db.ts';
import type { Envelope } from './transport.ts';

/**
 * Runs `effect` for this message unless `consumer` already applied it, atomically with recording it. Resolves
 * with whether the effect ran; a duplicate resolves `false` and should be acknowledged. A concurrent duplicate
 * waits on the first's row lock and then skips; if the first rolls back, the second applies it.
 */
export async function consumeOnce(
  db: Pool,
  consumer: string,
  envelope: Pick<Envelope, 'id'>,
  effect: (tx: Transaction) => Promise<void>,
): Promise<boolean> {
  return withTransaction(db, async (tx) => {
    const { rowCount } = await tx.query(
      'INSERT INTO inbox (consumer, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING',
      [consumer, envelope.id],
    );
    if (rowCount === 0) return false;
    await effect(tx);
    return true;
  });
}

/** A subscription handler that applies each message once: `handle: once(db, 'notifications', applyIt)`. */
export function once(
  db: Pool,
  consumer: string,
  effect: (tx: Transaction, envelope: Envelope) => Promise<void>,
): (envelope: Envelope) => Promise<void> {
  // No trace of its own: the transport already runs every handler in the publisher's trace.
  return async (envelope) => {
    await consumeOnce(db, consumer, envelope, (tx) => effect(tx, envelope));
  };
}

/** Forgets inbox entries processed before `olderThan`: keep them far longer than any redelivery can lag. */
export async function pruneInbox(db: Queryable, olderThan: Date): Promise<number> {
  const { rowCount } = await db.query(`DELETE FROM inbox WHERE processed_at < $1`, [olderThan]);
  return rowCount ?? 0;
}
