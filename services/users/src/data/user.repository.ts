// Users as stored: the address as typed plus its normalized form, which carries the uniqueness.
import { isUniqueViolation, type Queryable } from '@souk/chassis';
import type { Role, User } from '@souk/contracts';
import { normalizeEmail } from '../domain/email.ts';

export interface StoredUser extends User {
  passwordHash: string;
  /** Set by an operator; a disabled account may not act anywhere (other services learn it through GetUser). */
  disabled?: boolean;
}

interface UserRow {
  id: string;
  email: string;
  name: string;
  role: Role;
  password_hash: string;
  disabled: boolean;
}

const toUser = (row: UserRow): StoredUser => ({
  id: row.id,
  email: row.email,
  name: row.name,
  role: row.role,
  passwordHash: row.password_hash,
  disabled: row.disabled,
});

/** What other services learn of an account (GetUser). */
export interface Account extends User {
  disabled: boolean;
}

/** The channel migration 003's trigger notifies with the id of each account updated or deleted. */
export const USERS_CHANGED_CHANNEL = 'souk_users';

export const publicView = ({ id, email, name, role }: StoredUser): User => ({ id, email, name, role });

export class EmailTakenError extends Error {
  override name = 'EmailTakenError';
}

export class UserRepository {
  readonly #db: Queryable;

  constructor(db: Queryable) {
    this.#db = db;
  }

  async insert(user: StoredUser): Promise<StoredUser> {
    try {
      await this.#db.query(
        `INSERT INTO users (id, email, email_normalized, name, role, password_hash) VALUES ($1, $2, $3, $4, $5, $6)`,
        [user.id, user.email.trim(), normalizeEmail(user.email), user.name, user.role, user.passwordHash],
      );
      return user;
    } catch (error) {
      if (isUniqueViolation(error, 'users_email_normalized_key')) throw new EmailTakenError(user.email);
      throw error;
    }
  }

  async findById(id: string): Promise<StoredUser | undefined> {
    const { rows } = await this.#db.query<UserRow>(`SELECT * FROM users WHERE id = $1`, [id]);
    return rows[0] && toUser(rows[0]);
  }

  /** The accounts of those of `ids` that exist, by id. */
  async findAccounts(ids: readonly string[]): Promise<Map<string, Account>> {
    const { rows } = await this.#db.query<Account>(
      'SELECT id, email, name, role, disabled FROM users WHERE id = ANY($1::uuid[])',
      [ids],
    );
    return new Map(rows.map((account) => [account.id, account]));
  }

  async findByEmail(email: string): Promise<StoredUser | undefined> {
    const { rows } = await this.#db.query<UserRow>(`SELECT * FROM users WHERE email_normalized = $1`, [
      normalizeEmail(email),
    ]);
    return rows[0] && toUser(rows[0]);
  }

  async rename(id: string, name: string): Promise<StoredUser | undefined> {
    const { rows } = await this.#db.query<UserRow>(
      `UPDATE users SET name = $2, updated_at = now() WHERE id = $1 RETURNING *`,
      [id, name],
    );
    return rows[0] && toUser(rows[0]);
  }

  async setAdmin(id: string, passwordHash: string): Promise<void> {
    await this.#db.query(
      `UPDATE users SET role = 'admin', password_hash = $2, updated_at = now() WHERE id = $1`,
      [id, passwordHash],
    );
  }
}
