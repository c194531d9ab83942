// The users service's public signing keys, cached so that tokens are verified locally. An unknown key id
// (a rotation) refetches at most once per cooldown; an old key set is refreshed in the background.
import { UpstreamUnavailableError, type UpstreamClient } from '@souk/chassis';
import { createLocalJWKSet, type JSONWebKeySet, type LocalJWKSet } from 'jose';

/** Fetches the users service's public keys. Without them no token can be verified, so any bad answer is
 * reported like an unreachable users service: the caller answers 503, not 500. */
export async function fetchKeySet(users: UpstreamClient): Promise<JSONWebKeySet> {
  const response = await users.request({
    method: 'GET',
    path: '/.well-known/jwks.json',
    headers: { accept: 'application/json' },
    timeoutMs: 2000,
  });
  try {
    if (response.status !== 200) throw new Error(`the users service answered ${response.status}`);
    const body = JSON.parse(response.body.toString('utf8')) as Partial<JSONWebKeySet> | null;
    if (!Array.isArray(body?.keys)) throw new Error('the users service sent no key set');
    return body as JSONWebKeySet;
  } catch (error) {
    throw new UpstreamUnavailableError('users', 'unreachable', { cause: error });
  }
}

export interface JwksCacheOptions {
  /** Fetches the key set from the users service; rejects when it cannot. */
  fetch: () => Promise<JSONWebKeySet>;
  clock: () => number;
  settings: () => { jwksRefetchCooldownMs: number; jwksMaxAgeMs: number };
  /** A refresh failed and was absorbed (the cached keys stay in use); only the first load fails callers. */
  onRefreshError: (error: unknown) => void;
}

export class JwksCache {
  readonly #options: JwksCacheOptions;
  #keys: LocalJWKSet | undefined;
  #loadedAt = 0;
  #attemptedAt = Number.NEGATIVE_INFINITY;
  #loading: Promise<LocalJWKSet> | undefined;

  constructor(options: JwksCacheOptions) {
    this.#options = options;
  }

  /** The cached key set, loaded first if there is none yet. */
  async current(): Promise<LocalJWKSet> {
    if (this.#keys === undefined) return this.#load();
    const { jwksMaxAgeMs } = this.#options.settings();
    if (this.#options.clock() - this.#loadedAt > jwksMaxAgeMs && this.#mayRefetch()) {
      // Stale while revalidating: the request goes on with the keys it has.
      this.#load().catch(this.#options.onRefreshError);
    }
    return this.#keys;
  }

  /** A fresh key set after a token named an unknown key; undefined during the cooldown or when the fetch
   * failed (reported, since the token then cannot be verified and is refused). */
  async refreshForUnknownKey(): Promise<LocalJWKSet | undefined> {
    if (this.#loading === undefined && !this.#mayRefetch()) return undefined;
    return this.#load().catch((error: unknown) => {
      this.#options.onRefreshError(error);
      return undefined;
    });
  }

  /** For readiness: resolves once keys are cached, loading them if needed. */
  async ready(): Promise<void> {
    await this.current();
  }

  #mayRefetch(): boolean {
    return (
      this.#loading === undefined &&
      this.#options.clock() - this.#attemptedAt >= this.#options.settings().jwksRefetchCooldownMs
    );
  }

  #load(): Promise<LocalJWKSet> {
    // Concurrent callers share one fetch.
    if (this.#loading !== undefined) return this.#loading;
    this.#attemptedAt = this.#options.clock();
    const loading = this.#fetch().finally(() => {
      this.#loading = undefined;
    });
    this.#loading = loading;
    return loading;
  }

  async #fetch(): Promise<LocalJWKSet> {
    const keys = createLocalJWKSet(await this.#options.fetch());
    this.#keys = keys;
    this.#loadedAt = this.#options.clock();
    return keys;
  }
}
