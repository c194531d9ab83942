// The inbox: a consumer records each message it applied, in the same transaction as the effect, so a message
// delivered twice (at-least-once transports, outbox re-publishes) changes state once.
import { withTransaction, type Pool, type Queryable, type Transaction } from '../db.ts';
import { ROOT_CONTEXT, activeContext, runWithin, type Context } from '../tracing/tracer.ts';
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

interface Waiting {
  envelope: Pick<Envelope, 'id'>;
  effect: (tx: Transaction) => Promise<void>;
  resolve: (applied: boolean) => void;
  reject: (error: unknown) => void;
  /** The caller's context (its CONSUMER span): its message's queries and logs belong to its own trace. */
  within: Context;
}

/**
 * `consumeOnce`, applying together the messages of a consumer that arrive while its previous transaction runs:
 * the first of a quiet moment gets a transaction of its own at once; those that come meanwhile share the next
 * one (up to `maxBatch`), each inside a savepoint, so a message whose effect fails is rolled back alone and
 * rejected while the others commit. A busy consumer thus pays one commit for many messages, an idle one waits
 * for nothing. Each call resolves once its message's transaction committed, as with `consumeOnce`.
 */
export function batchedConsumeOnce(options: { maxBatch?: number } = {}): typeof consumeOnce {
  const maxBatch = options.maxBatch ?? 32;
  type Queue = { waiting: Waiting[]; applying: boolean };
  const queues = new WeakMap<Pool, Map<string, Queue>>();
  const queueOf = (db: Pool, consumer: string) => {
    let ofDb = queues.get(db);
    if (ofDb === undefined) queues.set(db, (ofDb = new Map<string, Queue>()));
    let queue = ofDb.get(consumer);
    if (queue === undefined) ofDb.set(consumer, (queue = { waiting: [], applying: false }));
    return queue;
  };

  const applyAlone = async (db: Pool, consumer: string, item: Waiting) => {
    try {
      item.resolve(await runWithin(item.within, () => consumeOnce(db, consumer, item.envelope, item.effect)));
    } catch (error) {
      item.reject(error);
    }
  };

  const applyTogether = async (db: Pool, consumer: string, batch: Waiting[]) => {
    const settlements: (() => void)[] = [];
    try {
      await withTransaction(db, async (tx) => {
        for (const item of batch)
          await runWithin(item.within, async () => {
            await tx.query('SAVEPOINT message');
            try {
              const { rowCount } = await tx.query(
                'INSERT INTO inbox (consumer, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING',
                [consumer, item.envelope.id],
              );
              if (rowCount !== 0) await item.effect(tx);
              await tx.query('RELEASE SAVEPOINT message');
              settlements.push(() => item.resolve(rowCount !== 0));
            } catch (error) {
              await tx.query('ROLLBACK TO SAVEPOINT message');
              settlements.push(() => item.reject(error));
            }
          });
      });
    } catch (error) {
      // Nothing of the batch committed.
      for (const item of batch) item.reject(error);
      return;
    }
    for (const settle of settlements) settle();
  };

  return (db, consumer, envelope, effect) =>
    new Promise<boolean>((resolve, reject) => {
      const queue = queueOf(db, consumer);
      queue.waiting.push({ envelope, effect, resolve, reject, within: activeContext() });
      if (queue.applying) return;
      queue.applying = true;
      // The loop serves every caller's message: it runs in no one's trace, each message in its own.
      void runWithin(ROOT_CONTEXT, async () => {
        try {
          while (queue.waiting.length > 0) {
            const batch = queue.waiting.splice(0, maxBatch);
            if (batch.length === 1) await applyAlone(db, consumer, batch[0]!);
            else await applyTogether(db, consumer, batch);
          }
        } finally {
          queue.applying = false;
        }
      });
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
