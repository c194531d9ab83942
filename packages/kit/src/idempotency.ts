// Idempotency keys, after the IETF draft "The Idempotency-Key HTTP Header Field": the first request with a key
// does the work and its answer is stored; a replay gets the stored answer; the same key with another request is
// refused (422); a key whose request is still running is refused for now (409). A request whose worker died
// holds its key only for a lease; once the lease ran out, a retry resumes the work where it stopped.
import { accept, refuse, type Outcome, type Rejection } from '@souk/contracts';

export const idempotencyKeyRequired = (): Rejection => ({
  status: 400,
  code: 'IDEMPOTENCY_KEY_REQUIRED',
  detail: 'This request needs an Idempotency-Key header.',
});

export const idempotencyKeyInvalid = (): Rejection => ({
  status: 400,
  code: 'IDEMPOTENCY_KEY_INVALID',
  detail: 'An Idempotency-Key is 1 to 255 visible ASCII characters.',
});

export const idempotencyKeyReused = (): Rejection => ({
  status: 422,
  code: 'IDEMPOTENCY_KEY_REUSED',
  detail: 'This Idempotency-Key was already used for a different request.',
});

export const requestInProgress = (): Rejection => ({
  status: 409,
  code: 'REQUEST_IN_PROGRESS',
  detail: 'A request with this Idempotency-Key is still being processed; retry later.',
});

/**
 * The answer to an idempotent request, as stored under its key and replayed: the same status and body.
 * It is plain JSON on purpose.
 */
export type Answer<T, R extends Rejection = Rejection> =
  { ok: true; status: 200 | 201 | 202; value: T } | { ok: false; rejection: R };

/** An answer, and whether it is a stored one, replayed. */
export interface Reply<T> {
  readonly answer: Answer<T>;
  readonly replayed: boolean;
}

export const statusOf = (answer: Answer<unknown>): number =>
  answer.ok ? answer.status : answer.rejection.status;

export type KeyState = 'IN_PROGRESS' | 'COMPLETED';

export interface KeyRecord {
  readonly fingerprint: string;
  readonly state: KeyState;
  /** Until when the worker that holds the key may finish undisturbed; null once it let go. */
  readonly leasedUntil: Date | null;
  readonly answer: Answer<unknown> | null;
}

export type KeyDecision =
  | { action: 'replay'; answer: Answer<unknown> }
  | { action: 'resume' }
  | { action: 'refuse'; rejection: Rejection };

/** What to do with a request whose key is already on record. */
export function decideOnExistingKey(record: KeyRecord, fingerprint: string, now: Date): KeyDecision {
  if (record.fingerprint !== fingerprint) return { action: 'refuse', rejection: idempotencyKeyReused() };
  if (record.state === 'COMPLETED') {
    if (record.answer === null) throw new Error('a completed idempotency key has no stored answer');
    return { action: 'replay', answer: record.answer };
  }
  if (record.leasedUntil !== null && record.leasedUntil.getTime() > now.getTime())
    return { action: 'refuse', rejection: requestInProgress() };
  return { action: 'resume' };
}

const KEY = /^[\x20-\x7e]{1,255}$/;

/**
 * The key from an `Idempotency-Key` header. The draft makes it a structured-field string (`"abc"`); a bare
 * token (`abc`) is accepted as the same key. Sent twice, or empty, or too long, it is refused.
 */
export function parseIdempotencyKey(header: string | readonly string[] | undefined): Outcome<string> {
  if (header === undefined) return refuse(idempotencyKeyRequired());
  if (typeof header !== 'string') return refuse(idempotencyKeyInvalid());
  const value = header.trim();
  if (value === '') return refuse(idempotencyKeyRequired());
  let key = value;
  if (value.startsWith('"')) {
    const quoted = /^"((?:[^"\\]|\\["\\])*)"$/.exec(value);
    if (quoted === null) return refuse(idempotencyKeyInvalid());
    key = quoted[1]!.replace(/\\(["\\])/g, '$1');
  }
  return KEY.test(key) && key.trim() === key ? accept(key) : refuse(idempotencyKeyInvalid());
}

/** JSON with object keys in sorted order, so that two equal requests have one fingerprint. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
