// Notification paging, without I/O: cursors round-trip and refuse anything this service did not issue.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeNotificationCursor, encodeNotificationCursor } from './notification-page.model.ts';

const instant = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
  .map((date) => date.toISOString());

describe('notification cursor', () => {
  it('when a position is encoded, then it decodes to the same position', () => {
    fc.assert(
      fc.property(instant, fc.uuid(), (createdAt, id) => {
        assert.deepEqual(decodeNotificationCursor(encodeNotificationCursor({ createdAt, id })), {
          createdAt,
          id,
        });
      }),
    );
  });

  it('when any string is offered as a cursor, then it is refused unless it is exactly one we issue', () => {
    fc.assert(
      fc.property(fc.string(), (cursor) => {
        const position = decodeNotificationCursor(cursor);
        if (position !== undefined) assert.equal(encodeNotificationCursor(position), cursor);
      }),
    );
  });

  it('when the cursor is malformed, then it decodes to nothing', () => {
    const b64 = (text: string) => Buffer.from(text).toString('base64url');
    const id = '6f1c1e52-4f7a-4a53-9d4e-0b0e6a8a2f10';
    for (const cursor of [
      '',
      'not a cursor!',
      b64('["2024-01-01T00:00:00.000Z"]'),
      b64(`["2024-01-01", "${id}"]`),
      b64(`["2024-01-01T00:00:00.000Z", "not-a-uuid"]`),
      b64(`[0, "${id}"]`),
      b64(`["2024-01-01T00:00:00.000Z","${id}"]`) + 'A',
    ]) {
      assert.equal(decodeNotificationCursor(cursor), undefined, cursor);
    }
  });
});
