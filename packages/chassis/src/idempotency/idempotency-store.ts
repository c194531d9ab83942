// Idempotency keys (IETF draft "The Idempotency-Key HTTP Header Field") in the service's PostgreSQL. A key's row is the lock: a concurrent twin of a request waits on it, then
// finds it in progress or completed. Leases use the database's clock, the one clock every instance shares.
import { createHmac } from 'node:crypto';
import {
  canonicalJson,
  decideOnExistingKey,
  statusOf,
  type Answer,
  type KeyDecision,
  type KeyState,
} from '@souk/kit';
import type { Pool, Transaction } from '../db.ts';

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

/**
 * Claims the key for this request, or says what to do instead. A new key is inserted IN_PROGRESS with a lease;
 * a resumed one gets a new lease. Either way the caller's transaction holds the key's row until it ends.
 */
export async function claimKey(
  tx: Transaction,
  claim: KeyClaim,
  leaseMs: number,
): Promise<{ action: 'new' } | KeyDecision> {
  const inserted = await tx.query(
    `INSERT INTO idempotency_keys (caller, key, operation, fingerprint, state, leased_until)
     VALUES ($1, $2, $3, $4, 'IN_PROGRESS', clock_timestamp() + $5 * interval '1 millisecond')
     ON CONFLICT (caller, key) DO NOTHING`,
    [claim.caller, claim.key, claim.operation, claim.fingerprint, leaseMs],
  );
  if (inserted.rowCount === 1) return { action: 'new' };

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
  if (decision.action === 'resume') {
    await tx.query(
      `UPDATE idempotency_keys
       SET leased_until = clock_timestamp() + $3 * interval '1 millisecond', updated_at = now()
       WHERE caller = $1 AND key = $2`,
      [claim.caller, claim.key, leaseMs],
    );
  }
  return decision;
}

/** Stores the answer: from now on, the key replays it. */
export async function completeKey(
  tx: Transaction,
  caller: string,
  key: string,
  answer: Answer<unknown>,
): Promise<void> {
  await tx.query(
    `UPDATE idempotency_keys
     SET state = 'COMPLETED', leased_until = NULL, response_status = $3, response = $4::jsonb, updated_at = now()
     WHERE caller = $1 AND key = $2`,
    [caller, key, statusOf(answer), JSON.stringify(answer)],
  );
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
