// Idempotency-Key records (IETF draft "The Idempotency-Key HTTP Header Field"): the first request with a
// key does the work, and the stored answer is replayed to every later one with the same key and body.
import type { Queryable } from '@souk/chassis';

export type KeyClaim =
  { kind: 'claimed' } | { kind: 'replay'; answer: unknown } | { kind: 'in-progress' } | { kind: 'mismatch' };

/** A claim left by a process that died is taken over after this long. */
const LEASE_SECONDS = 30;

export async function claimKey(
  db: Queryable,
  userId: string,
  key: string,
  fingerprint: string,
): Promise<KeyClaim> {
  const inserted = await db.query(
    `INSERT INTO idempotency_keys (user_id, key, fingerprint, status, locked_until)
     VALUES ($1, $2, $3, 'IN_PROGRESS', now() + make_interval(secs => $4))
     ON CONFLICT (user_id, key) DO NOTHING`,
    [userId, key, fingerprint, LEASE_SECONDS],
  );
  if (inserted.rowCount === 1) return { kind: 'claimed' };
  const taken = await db.query(
    `UPDATE idempotency_keys SET locked_until = now() + make_interval(secs => $4)
     WHERE user_id = $1 AND key = $2 AND fingerprint = $3 AND status = 'IN_PROGRESS' AND locked_until < now()`,
    [userId, key, fingerprint, LEASE_SECONDS],
  );
  if (taken.rowCount === 1) return { kind: 'claimed' };
  const { rows } = await db.query<{ fingerprint: string; status: string; answer: unknown }>(
    'SELECT fingerprint, status, answer FROM idempotency_keys WHERE user_id = $1 AND key = $2',
    [userId, key],
  );
  const row = rows[0];
  if (row === undefined) return claimKey(db, userId, key, fingerprint);
  if (row.fingerprint !== fingerprint) return { kind: 'mismatch' };
  if (row.status === 'IN_PROGRESS') return { kind: 'in-progress' };
  return { kind: 'replay', answer: row.answer };
}

export async function completeKey(
  db: Queryable,
  userId: string,
  key: string,
  answer: unknown,
): Promise<void> {
  await db.query(`UPDATE idempotency_keys SET status = 'DONE', answer = $3 WHERE user_id = $1 AND key = $2`, [
    userId,
    key,
    JSON.stringify(answer),
  ]);
}

/** Forgets a claim whose request failed for a reason worth retrying (a dependency was down). */
export async function releaseKey(db: Queryable, userId: string, key: string): Promise<void> {
  await db.query(`DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND status = 'IN_PROGRESS'`, [
    userId,
    key,
  ]);
}
