// The account use cases: register, log in, rotate a refresh token, and bootstrap the admin.
import { randomUUID } from 'node:crypto';
import { ProblemError, conflict, withTransaction, type Logger, type Outbox, type Pool } from '@souk/chassis';
import type { RegisterUser, Role, TokenPair, User } from '@souk/contracts';
import { normalizeEmail } from './domain/email.ts';
import { lockoutRemaining, recordFailure, type LockoutPolicy } from './domain/login-lockout.ts';
import { LoginFailureRepository } from './data/login-failure.repository.ts';
import { RefreshTokenRepository } from './data/refresh-token.repository.ts';
import { EmailTakenError, UserRepository, publicView } from './data/user.repository.ts';
import { newRefreshToken, refreshTokenDigest, type AccessTokenIssuer } from './security/access-tokens.ts';
import { hashPassword, verifyPassword } from './security/password.ts';

export interface AccountsOptions {
  db: Pool;
  outbox: Outbox;
  tokens: AccessTokenIssuer;
  refreshTtlSeconds: number;
  lockout: LockoutPolicy;
  clock: () => Date;
  newId?: () => string;
}

const invalidCredentials = () =>
  new ProblemError(401, 'INVALID_CREDENTIALS', 'The email or password is wrong.', {
    headers: { 'www-authenticate': 'Bearer' },
  });

export class Accounts {
  readonly #options: AccountsOptions;
  readonly #users: UserRepository;
  readonly #newId: () => string;
  /** Compared against when the email is unknown, so both failures take the same time. */
  readonly #decoyHash: Promise<string>;

  constructor(options: AccountsOptions) {
    this.#options = options;
    this.#users = new UserRepository(options.db);
    this.#newId = options.newId ?? randomUUID;
    this.#decoyHash = hashPassword(randomUUID());
  }

  async register(input: RegisterUser, role: Role = 'customer'): Promise<User> {
    const passwordHash = await hashPassword(input.password);
    try {
      return await withTransaction(this.#options.db, async (tx) => {
        const user = await new UserRepository(tx).insert({
          id: this.#newId(),
          email: input.email.trim(),
          name: input.name.trim(),
          role,
          passwordHash,
        });
        await this.#options.outbox.add(
          tx,
          'user.registered',
          { userId: user.id, email: user.email, name: user.name },
          { subject: user.id },
        );
        return publicView(user);
      });
    } catch (error) {
      if (error instanceof EmailTakenError)
        throw conflict('EMAIL_TAKEN', 'An account with this email exists.');
      throw error;
    }
  }

  /** One login per account at a time (an advisory lock), so concurrent guesses cannot outrun the lockout. */
  async login(email: string, password: string): Promise<TokenPair> {
    const key = normalizeEmail(email);
    const user = await withTransaction(this.#options.db, async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`login:${key}`]);
      const failures = new LoginFailureRepository(tx);
      const record = await failures.find(key);
      const now = this.#options.clock();
      const wait = lockoutRemaining(this.#options.lockout, record, now);
      if (wait > 0) {
        throw new ProblemError(429, 'TOO_MANY_FAILED_LOGINS', 'Too many failed logins; try again later.', {
          headers: { 'retry-after': String(wait) },
        });
      }
      const found = await new UserRepository(tx).findByEmail(key);
      const valid = await verifyPassword(password, found?.passwordHash ?? (await this.#decoyHash));
      if (found === undefined || !valid) {
        await failures.save(key, recordFailure(this.#options.lockout, record, now));
        return undefined;
      }
      if (record !== undefined) await failures.clear(key);
      return found;
    });
    if (user === undefined) throw invalidCredentials();
    return this.#issuePair(user, randomUUID());
  }

  async refresh(refreshToken: string): Promise<TokenPair> {
    const outcome = await new RefreshTokenRepository(this.#options.db).consume(
      refreshTokenDigest(refreshToken),
    );
    const user = outcome.kind === 'rotated' ? await this.#users.findById(outcome.userId) : undefined;
    if (outcome.kind !== 'rotated' || user === undefined) {
      throw new ProblemError(
        401,
        'INVALID_REFRESH_TOKEN',
        'The refresh token is unknown, used, revoked or expired.',
      );
    }
    return this.#issuePair(user, outcome.familyId);
  }

  /** Makes sure the configured admin exists, has the admin role and the configured password. */
  async ensureAdmin(admin: { email: string; password: string }, log: Logger): Promise<void> {
    const existing = await this.#users.findByEmail(admin.email);
    if (existing === undefined) {
      try {
        await this.register({ email: admin.email, password: admin.password, name: 'Administrator' }, 'admin');
        log.info({ email: admin.email }, 'admin account created');
      } catch (error) {
        // Another instance created it at the same moment.
        if (!(error instanceof ProblemError && error.code === 'EMAIL_TAKEN')) throw error;
      }
      return;
    }
    if (existing.role !== 'admin' || !(await verifyPassword(admin.password, existing.passwordHash))) {
      await this.#users.setAdmin(existing.id, await hashPassword(admin.password));
      log.info({ email: admin.email }, 'admin account updated from configuration');
    }
  }

  async #issuePair(user: { id: string; role: Role }, familyId: string): Promise<TokenPair> {
    const refreshToken = newRefreshToken();
    await new RefreshTokenRepository(this.#options.db).store(
      refreshTokenDigest(refreshToken),
      user.id,
      familyId,
      this.#options.refreshTtlSeconds,
    );
    return {
      accessToken: await this.#options.tokens.issue(user),
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: this.#options.tokens.ttlSeconds,
    };
  }
}
