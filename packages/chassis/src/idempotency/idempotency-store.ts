// Idempotency keys (IETF draft "The Idempotency-Key HTTP Header Field") in the service's PostgreSQL. A key's row is the lock: a concurrent twin of a request waits on it, then
// finds it in progress or completed. Leases use the database's clock, the one clock every instance shares.
import { createHmac, randomUUID } from 'node:crypto';
import {
  canonicalJson,
  decideOnExistingKey,
  statusOf,
  type Answer,
  type KeyDecision,
  type KeyState,
} from '@souk/kit';
import type { Pool, Queryable, Transaction } from '../db.ts';

export interface KeyClaim {
  /** Whose key it is: keys are scoped per caller (a service's name, or a user). */
  caller: string;
  key: string;
  /** What the key's request does, e.g. `charge`: part of the fingerprint. */
  operation: string;
  fingerprint: string;
}

/**
 * Identifies a request: its operation and its body, whatever the order of the body's fields. Keyed with a
 * secret, because a plain hash of a body that holds a card number could be reversed by trying every number.
 */
export const fingerprintOf = (secret: string, operation: string, body: unknown): string =>
  createHmac('sha256', secret)
    .update(`${operation}\n${canonicalJson(body)}`)
    .digest('hex');

/** The key is this request's to work on; `claim` identifies this hold on it, for completeKey. */
export interface KeyHeld {
  action: 'new' | 'resume';
  claim: string;
}

/**
 * Claims the key for this request, or says what to do instead. A new key is inserted IN_PROGRESS with a lease;
 * a resumed one gets a new lease and a new claim. Either way the caller's transaction holds the key's row until
 * it ends.
 */
export async function claimKey(
  tx: Transaction,
  claim: KeyClaim,
  leaseMs: number,
): Promise<KeyHeld | Exclude<KeyDecision, { action: 'resume' }>> {
  const held = randomUUID();
  const inserted = await tx.query(
    `INSERT INTO idempotency_keys (caller, key, operation, fingerprint, state, leased_until, claim)
     VALUES ($1, $2, $3, $4, 'IN_PROGRESS', clock_timestamp() + $5 * interval '1 millisecond', $6)
     ON CONFLICT (caller, key) DO NOTHING`,
    [claim.caller, claim.key, claim.operation, claim.fingerprint, leaseMs, held],
  );
  if (inserted.rowCount === 1) return { action: 'new', claim: held };

  const { rows } = await tx.query<{
    fingerprint: string;
    state: KeyState;
    leased_until: Date | null;
    response: Answer<unknown> | null;
    now: Date;
  }>(
    `SELECT fingerprint, state, leased_until, response, clock_timestamp() AS now
     FROM idempotency_keys WHERE caller = $1 AND key = $2 FOR UPDATE`,
    [claim.caller, claim.key],
  );
  const row = rows[0];
  if (row === undefined) throw new Error(`idempotency key ${claim.key} vanished while being claimed`);
  const decision = decideOnExistingKey(
    { fingerprint: row.fingerprint, state: row.state, leasedUntil: row.leased_until, answer: row.response },
    claim.fingerprint,
    row.now,
  );
  if (decision.action !== 'resume') return decision;
  await tx.query(
    `UPDATE idempotency_keys
     SET leased_until = clock_timestamp() + $3 * interval '1 millisecond', claim = $4, updated_at = now()
     WHERE caller = $1 AND key = $2`,
    [claim.caller, claim.key, leaseMs, held],
  );
  return { action: 'resume', claim: held };
}

/**
 * Stores the answer: from now on, the key replays it. Given the `claim` that claimKey returned, it stores it
 * only while that claim still holds the key, and says whether it did: a worker whose lease ran out and whose
 * key was resumed by another must not answer for it. Without a claim (a settlement that no request holds, such
 * as a reconciliation), the answer is stored unless the key is completed already.
 */
export async function completeKey(
  tx: Transaction,
  caller: string,
  key: string,
  answer: Answer<unknown>,
  claim?: string,
): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE idempotency_keys
     SET state = 'COMPLETED', leased_until = NULL, claim = NULL, response_status = $3, response = $4::jsonb,
         updated_at = now()
     WHERE caller = $1 AND key = $2 AND state = 'IN_PROGRESS' AND ($5::uuid IS NULL OR claim = $5)`,
    [caller, key, statusOf(answer), JSON.stringify(answer), claim ?? null],
  );
  return rowCount === 1;
}

/** The stored answer, when the key is completed. */
export async function completedAnswer(
  tx: Transaction,
  caller: string,
  key: string,
): Promise<Answer<unknown> | undefined> {
  const { rows } = await tx.query<{ state: KeyState; response: Answer<unknown> | null }>(
    'SELECT state, response FROM idempotency_keys WHERE caller = $1 AND key = $2 FOR UPDATE',
    [caller, key],
  );
  const row = rows[0];
  if (row === undefined) throw new Error(`idempotency key ${key} vanished`);
  return row.state === 'COMPLETED' && row.response !== null ? row.response : undefined;
}

/** The answer stored for a completed key, read without taking its row: for a retry that cannot go ahead. */
export async function storedAnswer(
  db: Queryable,
  caller: string,
  key: string,
): Promise<Answer<unknown> | undefined> {
  const { rows } = await db.query<{ response: Answer<unknown> }>(
    `SELECT response FROM idempotency_keys
     WHERE caller = $1 AND key = $2 AND state = 'COMPLETED' AND response IS NOT NULL`,
    [caller, key],
  );
  return rows[0]?.response;
}

/**
 * Lets go of an unfinished key (the processor did not answer), so that a retry resumes at once instead of
 * waiting for the lease to run out.
 */
export async function releaseKey(pool: Pool, caller: string, key: string): Promise<void> {
  await pool.query(
    `UPDATE idempotency_keys SET leased_until = NULL, updated_at = now()
     WHERE caller = $1 AND key = $2 AND state = 'IN_PROGRESS'`,
    [caller, key],
  );
}

/**
 * Retention: deletes the keys completed before `olderThan`, and the unfinished ones abandoned before it (their
 * lease ran out and nobody resumed them since). Returns how many went. A retry with a pruned key is new again,
 * so `olderThan` should lie well beyond how long clients retry.
 */
export async function pruneExpiredIdempotencyKeys(db: Queryable, olderThan: Date): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM idempotency_keys
     WHERE updated_at < $1
       AND (state = 'COMPLETED' OR leased_until IS NULL OR leased_until < $1)`,
    [olderThan],
  );
  return rowCount ?? 0;
}
