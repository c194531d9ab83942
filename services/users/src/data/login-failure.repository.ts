// Failed login counts per normalized email, read and written under a row lock.
import type { Queryable } from '@souk/chassis';
import type { FailureRecord } from '../domain/login-lockout.ts';

export class LoginFailureRepository {
  readonly #db: Queryable;

  constructor(db: Queryable) {
    this.#db = db;
  }

  async find(email: string, forUpdate = false): Promise<FailureRecord | undefined> {
    const { rows } = await this.#db.query<{ failures: number; window_started_at: Date }>(
      `SELECT failures, window_started_at FROM login_failures WHERE email_normalized = $1${forUpdate ? ' FOR UPDATE' : ''}`,
      [email],
    );
    const row = rows[0];
    return row && { failures: row.failures, windowStartedAt: row.window_started_at };
  }

  async save(email: string, record: FailureRecord): Promise<void> {
    await this.#db.query(
      `INSERT INTO login_failures (email_normalized, failures, window_started_at) VALUES ($1, $2, $3)
       ON CONFLICT (email_normalized) DO UPDATE SET failures = $2, window_started_at = $3`,
      [email, record.failures, record.windowStartedAt],
    );
  }

  async clear(email: string): Promise<void> {
    await this.#db.query(`DELETE FROM login_failures WHERE email_normalized = $1`, [email]);
  }
}
