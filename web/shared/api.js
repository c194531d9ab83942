// The pages' one way to call Souk's public API (docs/api.md): JSON in and out, the bearer token, silent
// refresh-token rotation shared by every tab, problems turned into plain words, and Idempotency-Keys.

/** An answer the page must show: a problem from the API in plain words, or a network failure (status 0). */
export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, or 0 when the request never got an answer.
   * @param {string} code The problem's stable code (`NETWORK` when nothing answered).
   * @param {string} message What to tell the person.
   * @param {{ problem?: any, retryAfterSeconds?: number }} [extra]
   */
  constructor(status, code, message, extra = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.problem = extra.problem;
    this.retryAfterSeconds = extra.retryAfterSeconds;
  }

  /** True when the request may or may not have reached the server: retrying must reuse its Idempotency-Key. */
  get outcomeUnknown() {
    return this.status === 0 || this.status === 502 || this.status === 504;
  }

  /** True when the answer means the person is no longer signed in, so the page offers "Sign in". */
  get signedOut() {
    return this.code === SESSION_EXPIRED || this.status === 401;
  }
}

/** The session could not be renewed: the person has to sign in again. */
export const SESSION_EXPIRED = 'SESSION_EXPIRED';

/** What a person is told for each problem code; `{s}` is the Retry-After in seconds. */
const PLAIN_WORDS = {
  NETWORK: 'The shop could not be reached. Check your connection and try again.',
  [SESSION_EXPIRED]: 'Your session has ended. Please sign in again.',
  UNAUTHORIZED: 'Please sign in first.',
  INVALID_CREDENTIALS: 'That email and password do not match an account.',
  INVALID_REFRESH_TOKEN: 'Your session has ended. Please sign in again.',
  TOO_MANY_FAILED_LOGINS: 'Too many failed sign-ins for this account. Try again in {s} seconds.',
  RATE_LIMITED: 'Too many requests. Try again in {s} seconds.',
  EMAIL_TAKEN: 'An account with this email already exists. Sign in instead.',
  FORBIDDEN: 'Your account is not allowed to do that.',
  ACCOUNT_DISABLED: 'This account is disabled.',
  ACCOUNT_NOT_FOUND: 'This account no longer exists.',
  INVALID_CARD: 'That card number is not valid. Check the digits and try again.',
  UNKNOWN_PRODUCT: 'An item in your cart is no longer sold. Remove it and try again.',
  EMPTY_ORDER: 'Your cart is empty.',
  MIXED_CURRENCIES: 'Items priced in different currencies cannot be bought in one order.',
  TOTAL_TOO_LARGE: 'The order total is too large. Buy fewer items at once.',
  ALREADY_CANCELLED: 'This order is already cancelled.',
  ORDER_NOT_FOUND: 'There is no such order.',
  PRODUCT_NOT_FOUND: 'There is no such product.',
  USER_NOT_FOUND: 'There is no such user.',
  REQUEST_IN_PROGRESS: 'Your previous attempt is still being processed. Wait a moment.',
  IDEMPOTENCY_KEY_REUSED: 'Your cart changed while an order was being placed. Place the order again.',
  INVALID_CURSOR: 'That page of results is no longer available. Start from the first page.',
  BODY_TOO_LARGE: 'That is too much data to send at once.',
  UPSTREAM_UNAVAILABLE: 'Part of the shop is not answering right now. Try again in {s} seconds.',
  DEPENDENCY_UNAVAILABLE: 'Part of the shop is not answering right now. Try again in {s} seconds.',
  UPSTREAM_TIMEOUT: 'The shop took too long to answer. Try again.',
  BAD_GATEWAY: 'The shop could not complete the request. Try again.',
  INTERNAL: 'Something went wrong on our side. Try again later.',
};

/** Plain words for an API problem: the catalogue's sentence, else the problem's own detail or title. */
function plainWords(status, problem, retryAfterSeconds) {
  const known = problem && PLAIN_WORDS[problem.code];
  if (known) return known.replace('{s}', String(retryAfterSeconds ?? 1));
  if (problem && typeof problem.detail === 'string' && problem.detail) return problem.detail;
  if (problem && typeof problem.title === 'string' && problem.title) return problem.title;
  if (status >= 500) return PLAIN_WORDS.INTERNAL;
  return `The request was refused (${status}).`;
}

/**
 * A fresh Idempotency-Key. Built from getRandomValues, which (unlike randomUUID) also exists on plain-HTTP
 * origins other than localhost.
 */
export function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Renew this long before the access token expires, so a request never leaves with a dying token. */
const RENEW_MARGIN_MS = 30_000;

/**
 * @typedef {{ accessToken: string, refreshToken: string, expiresAt: number, user?: { id: string, email: string, name: string, role: string } }} Session
 * @typedef {{ body?: unknown, idempotencyKey?: string, signal?: AbortSignal, auth?: boolean, headers?: Record<string, string> }} RequestOptions
 */

/**
 * The client. `storageKey` names where the session is kept (localStorage, so every tab shares it);
 * `onSessionChange(session | undefined, why)` is told of sign-in, sign-out and expiry (`why` = 'expired').
 */
export function createApi({
  base = '',
  storage = globalThis.localStorage,
  storageKey = 'souk.session',
  clock = () => Date.now(),
} = {}) {
  const listeners = new Set();
  /** @type {Promise<Session | undefined> | undefined} */
  let renewing;

  /** @returns {Session | undefined} */
  const load = () => {
    try {
      const stored = JSON.parse(storage.getItem(storageKey) ?? 'null');
      return stored && typeof stored.accessToken === 'string' ? stored : undefined;
    } catch {
      return undefined;
    }
  };
  const save = (session, why) => {
    if (session) storage.setItem(storageKey, JSON.stringify(session));
    else storage.removeItem(storageKey);
    for (const listener of listeners) listener(session, why);
  };

  // Another tab signed in, out, or rotated the tokens.
  globalThis.addEventListener?.('storage', (event) => {
    if (event.key === storageKey) for (const listener of listeners) listener(load(), 'other-tab');
  });

  async function send(method, path, options = {}, token) {
    const headers = { accept: 'application/json, application/problem+json', ...options.headers };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    let response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal,
        cache: 'no-store',
      });
    } catch (error) {
      if (error?.name === 'AbortError') throw error;
      throw new ApiError(0, 'NETWORK', PLAIN_WORDS.NETWORK);
    }
    const text = await response.text().catch(() => '');
    let body;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    if (response.ok) return { status: response.status, headers: response.headers, body };
    const retryAfter = Number(response.headers.get('retry-after'));
    const retryAfterSeconds = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined;
    const problem = body && typeof body === 'object' ? body : undefined;
    throw new ApiError(
      response.status,
      problem?.code ?? `HTTP_${response.status}`,
      plainWords(response.status, problem, retryAfterSeconds),
      { problem, retryAfterSeconds },
    );
  }

  /**
   * Trades the refresh token for a new pair, once at a time across every tab (a refresh token works once:
   * two tabs spending the same one would revoke the whole session).
   */
  function renew(spent) {
    renewing ??= withRefreshLock(async () => {
      const current = load();
      if (!current) return undefined;
      // Another tab renewed while this one waited for the lock.
      if (current.refreshToken !== spent.refreshToken) return current;
      try {
        const { body } = await send('POST', '/api/auth/refresh', {
          body: { refreshToken: current.refreshToken },
        });
        const next = { ...current, ...tokensOf(body) };
        save(next, 'renewed');
        return next;
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) {
          save(undefined, 'expired');
          return undefined;
        }
        throw error;
      }
    }).finally(() => {
      renewing = undefined;
    });
    return renewing;
  }

  const tokensOf = (body) => ({
    accessToken: body.accessToken,
    refreshToken: body.refreshToken,
    expiresAt: clock() + body.expiresIn * 1000,
  });

  const expired = () => new ApiError(401, SESSION_EXPIRED, PLAIN_WORDS[SESSION_EXPIRED]);

  /**
   * Calls the API. With a session, its token goes along (renewed first when it is about to expire, and once
   * more if the API still refuses it); `auth: true` requires a session. Resolves to the parsed body.
   * @param {string} method
   * @param {string} path
   * @param {RequestOptions} [options]
   */
  async function request(method, path, options = {}) {
    return (await exchange(method, path, options)).body;
  }

  /** Like request, but resolves to `{ status, headers, body }`. */
  async function exchange(method, path, options = {}) {
    let session = load();
    if (!session) {
      if (options.auth) throw expired();
      return send(method, path, options);
    }
    if (session.expiresAt - RENEW_MARGIN_MS <= clock()) {
      session = await renew(session);
      if (!session) throw expired();
    }
    try {
      return await send(method, path, options, session.accessToken);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401 || error.code === 'INVALID_CREDENTIALS')
        throw error;
      const renewed = await renew(session);
      if (!renewed) throw expired();
      return send(method, path, options, renewed.accessToken);
    }
  }

  return {
    request,
    exchange,
    get: (path, options) => request('GET', path, options),
    post: (path, body, options) => request('POST', path, { ...options, body }),
    patch: (path, body, options) => request('PATCH', path, { ...options, body }),

    /** @returns {Session | undefined} */
    session: load,
    /** Subscribes to sign-in, sign-out, renewal and expiry; returns the unsubscribe function. */
    onSessionChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    /** Signs in and remembers who: resolves to the user `{id, email, name, role}`. */
    async signIn(email, password) {
      const { body } = await send('POST', '/api/auth/login', { body: { email, password } });
      const tokens = tokensOf(body);
      const { body: user } = await send('GET', '/api/users/me', {}, tokens.accessToken);
      save({ ...tokens, user }, 'signed-in');
      return user;
    },

    /** Creates the account, then signs in with it. */
    async signUp({ email, password, name }) {
      await send('POST', '/api/users', { body: { email, password, name } });
      return this.signIn(email, password);
    },

    /** Forgets the session in every tab (the API has no server-side sign-out; the tokens simply expire). */
    signOut() {
      save(undefined, 'signed-out');
    },
  };
}

/** Runs `task` holding a lock every tab of this origin respects (Web Locks), or directly where there is none. */
function withRefreshLock(task) {
  const locks = globalThis.navigator?.locks;
  return locks ? locks.request('souk.session.refresh', task) : task();
}
