// Refresh tokens rotate: each use consumes the token and issues the next in its family. Presenting a consumed
// token means it leaked, so the whole family is revoked.
import type { Queryable } from '@souk/chassis';

export type RefreshOutcome = { kind: 'rotated'; userId: string; familyId: string } | { kind: 'rejected' };

export class RefreshTokenRepository {
  readonly #db: Queryable;

  constructor(db: Queryable) {
    this.#db = db;
  }

  async store(digest: Buffer, userId: string, familyId: string, ttlSeconds: number): Promise<void> {
    await this.#db.query(
      `INSERT INTO refresh_tokens (token_hash, user_id, family_id, expires_at)
       VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
      [digest, userId, familyId, ttlSeconds],
    );
  }

  /** Consumes the token: one concurrent caller wins, every other is rejected. */
  async consume(digest: Buffer): Promise<RefreshOutcome> {
    const { rows } = await this.#db.query<{ user_id: string; family_id: string }>(
      `UPDATE refresh_tokens SET used_at = now()
       WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
       RETURNING user_id, family_id`,
      [digest],
    );
    const row = rows[0];
    if (row) return { kind: 'rotated', userId: row.user_id, familyId: row.family_id };
    await this.#db.query(
      `UPDATE refresh_tokens SET revoked_at = now()
       WHERE revoked_at IS NULL AND family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1 AND used_at IS NOT NULL)`,
      [digest],
    );
    return { kind: 'rejected' };
  }
}

/**
 * Retention: deletes the families of refresh tokens in which every token was used, revoked or expired before
 * `olderThan`, and returns how many tokens went. A family with a token still live is kept whole, so that a
 * leaked token of it, presented again, is still recognised as reused and revokes the family.
 */
export async function pruneSpentRefreshTokens(db: Queryable, olderThan: Date): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM refresh_tokens WHERE family_id IN (
       SELECT family_id FROM refresh_tokens
       GROUP BY family_id
       HAVING max(least(expires_at, coalesce(revoked_at, used_at, 'infinity'))) < $1)`,
    [olderThan],
  );
  return rowCount ?? 0;
}
