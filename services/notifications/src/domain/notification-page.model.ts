// How a user's notifications are paged: newest first, by an opaque keyset cursor over (createdAt, id).

/** A place in the list's order, which is by time, then id, both descending. */
export interface NotificationPosition {
  readonly createdAt: string;
  readonly id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export const isUuid = (value: string): boolean => UUID.test(value);

const isInstant = (text: string): boolean => {
  const time = Date.parse(text);
  return Number.isFinite(time) && new Date(time).toISOString() === text;
};

export function encodeCursor(position: NotificationPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id]), 'utf8').toString('base64url');
}

/** The position a cursor names, or undefined for anything this service did not issue. */
export function decodeCursor(cursor: string): NotificationPosition | undefined {
  if (!BASE64URL.test(cursor)) return undefined;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(decoded) || decoded.length !== 2) return undefined;
  const [createdAt, id] = decoded as unknown[];
  if (typeof createdAt !== 'string' || typeof id !== 'string') return undefined;
  if (!isInstant(createdAt) || !isUuid(id)) return undefined;
  const position = { createdAt, id };
  // Only the exact bytes we issue are accepted, so a cursor stays opaque rather than a second query language.
  return encodeCursor(position) === cursor ? position : undefined;
}
