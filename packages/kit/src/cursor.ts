// Keyset pagination cursors: the sort key of the last row, opaque to clients (base64url of a JSON array).
import { isStorableText } from './text.ts';

const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function encodeCursor(key: readonly string[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/**
 * The key a cursor carries, or undefined for anything this service did not issue: the wrong arity, text no
 * database could hold, a value `valid` refuses, or any other spelling of the same key (a cursor stays opaque,
 * not a query language).
 */
export function decodeCursor(
  cursor: string,
  arity: number,
  valid: (key: readonly string[]) => boolean = () => true,
): string[] | undefined {
  if (!BASE64URL.test(cursor)) return undefined;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(decoded) || decoded.length !== arity) return undefined;
  if (!decoded.every((part): part is string => typeof part === 'string' && isStorableText(part))) {
    return undefined;
  }
  if (!valid(decoded) || encodeCursor(decoded) !== cursor) return undefined;
  return decoded;
}

/** Whether `text` is an instant exactly as `Date.prototype.toISOString` writes it, the form cursors carry. */
export function isInstant(text: string): boolean {
  const time = Date.parse(text);
  return Number.isFinite(time) && new Date(time).toISOString() === text;
}
