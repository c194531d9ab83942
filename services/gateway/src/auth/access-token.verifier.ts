// Turns a client's bearer token into the identity credential services trust: the token is verified locally
// against the users service's keys, once; the result is remembered until the token expires.
import { unauthorized, type IdentitySigner } from '@souk/chassis';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, type Role } from '@souk/contracts';
import { errors, jwtVerify, type JWTPayload, type JWTVerifyOptions, type LocalJWKSet } from 'jose';

export interface VerifiedCaller {
  readonly userId: string;
  /** The `x-souk-identity` credential sent upstream in place of the token. */
  readonly identity: string;
  /** Built once here so that rate limiting a known user allocates nothing. */
  readonly rateLimitKey: string;
  /** The token's `exp`, in seconds since the epoch. */
  readonly expiresAt: number;
}

/** The users service's verification keys; JwksCache in production. */
export interface KeySource {
  current(): Promise<LocalJWKSet>;
  refreshForUnknownKey(): Promise<LocalJWKSet | undefined>;
}

export interface AccessTokenVerifierOptions {
  jwks: KeySource;
  signer: IdentitySigner;
  clock: () => number;
  cacheSize: () => number;
}

const BEARER = /^bearer +([\w-]+\.[\w-]*\.[\w-]*) *$/i;
const ROLES: ReadonlySet<string> = new Set<Role>(['customer', 'admin']);
const VERIFY_OPTIONS = {
  algorithms: ['EdDSA'],
  issuer: ACCESS_TOKEN_ISSUER,
  audience: ACCESS_TOKEN_AUDIENCE,
  requiredClaims: ['sub', 'exp'],
} as const satisfies JWTVerifyOptions;

export class AccessTokenVerifier {
  readonly #options: AccessTokenVerifierOptions;
  // Keyed by the whole Authorization value: a hit needs no parsing at all. Insertion order makes the oldest
  // entry the first to go when the map is full.
  readonly #verified = new Map<string, VerifiedCaller>();

  constructor(options: AccessTokenVerifierOptions) {
    this.#options = options;
  }

  /** The caller behind an Authorization value verified before and not yet expired. */
  lookup(authorization: string): VerifiedCaller | undefined {
    const hit = this.#verified.get(authorization);
    if (hit === undefined) return undefined;
    if (hit.expiresAt * 1000 > this.#options.clock()) return hit;
    this.#verified.delete(authorization);
    return undefined;
  }

  /**
   * Verifies an Authorization value: a 401 ProblemError when it is not a valid access token, an
   * UpstreamUnavailableError when no keys are cached and the users service cannot provide them.
   */
  async verify(authorization: string): Promise<VerifiedCaller> {
    const cached = this.lookup(authorization);
    if (cached !== undefined) return cached;
    const token = BEARER.exec(authorization)?.[1];
    if (token === undefined) throw unauthorized('The Authorization header must be "Bearer <access token>".');

    const payload = await this.#verifySignatureAndClaims(token);
    const role = payload.role;
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || typeof role !== 'string') {
      throw unauthorized('The access token lacks a subject or a role.');
    }
    if (!ROLES.has(role)) throw unauthorized('The access token names an unknown role.');
    const exp = payload.exp!;
    const caller: VerifiedCaller = {
      userId: payload.sub,
      identity: this.#options.signer.sign({ kind: 'user', sub: payload.sub, role: role as Role, exp }),
      rateLimitKey: `user:${payload.sub}`,
      expiresAt: exp,
    };
    this.#remember(authorization, caller);
    return caller;
  }

  async #verifySignatureAndClaims(token: string): Promise<JWTPayload> {
    const keys = await this.#options.jwks.current();
    try {
      return await this.#verifyWith(token, keys);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
    }
    // The users service may have rotated its key since the set was cached.
    const fresh = await this.#options.jwks.refreshForUnknownKey();
    if (fresh === undefined) throw unauthorized('The access token was signed by an unknown key.');
    try {
      return await this.#verifyWith(token, fresh);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey) {
        throw unauthorized('The access token was signed by an unknown key.');
      }
      throw error;
    }
  }

  async #verifyWith(token: string, keys: LocalJWKSet): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, keys, {
        ...VERIFY_OPTIONS,
        currentDate: new Date(this.#options.clock()),
      });
      return payload;
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey) throw error;
      if (error instanceof errors.JWTExpired) throw unauthorized('The access token has expired.');
      if (error instanceof errors.JOSEError) throw unauthorized('The access token is not valid.');
      throw error;
    }
  }

  #remember(authorization: string, caller: VerifiedCaller): void {
    const limit = this.#options.cacheSize();
    while (this.#verified.size >= limit) {
      const oldest = this.#verified.keys().next();
      if (oldest.done === true) break;
      this.#verified.delete(oldest.value);
    }
    this.#verified.set(authorization, caller);
  }
}
