// How a user's notifications are paged: newest first, by an opaque keyset cursor over (createdAt, id).
import { decodeCursor, encodeCursor, isInstant, isUuid } from '@souk/kit';

/** A place in the list's order, which is by time, then id, both descending. */
export interface NotificationPosition {
  readonly createdAt: string;
  readonly id: string;
}

export { isUuid };

export const encodeNotificationCursor = (position: NotificationPosition): string =>
  encodeCursor([position.createdAt, position.id]);

/** The position a cursor names, or undefined for anything this service did not issue. */
export function decodeNotificationCursor(cursor: string): NotificationPosition | undefined {
  const key = decodeCursor(cursor, 2, ([createdAt, id]) => isInstant(createdAt!) && isUuid(id!));
  return key && { createdAt: key[0]!, id: key[1]! };
}
