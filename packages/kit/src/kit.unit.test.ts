import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeCursor, encodeCursor, isInstant, isLuhnValid, isStorableText, isUuid } from './index.ts';

describe('kit', () => {
  it('when a key is encoded, then it decodes to the same key; other spellings do not decode', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { minLength: 1, maxLength: 4 }), (key) => {
        const cursor = encodeCursor(key);
        assert.deepEqual(decodeCursor(cursor, key.length), key);
        assert.equal(decodeCursor(cursor, key.length + 1), undefined);
        assert.equal(decodeCursor(`${cursor}=`, key.length), undefined);
      }),
    );
    assert.equal(
      decodeCursor(encodeCursor(['a', 'b']), 2, ([, id]) => isUuid(id!)),
      undefined,
    );
    assert.equal(decodeCursor('not base64!', 1), undefined);
    assert.equal(decodeCursor(Buffer.from('[1,2]').toString('base64url'), 2), undefined);
  });

  it('when a cursor carries a NUL or an unpaired surrogate, then it does not decode', () => {
    for (const part of ['a\u0000b', '\ud800', 'x\udfff']) {
      assert.equal(decodeCursor(encodeCursor([part, 'b']), 2), undefined, JSON.stringify(part));
    }
    assert.deepEqual(decodeCursor(encodeCursor(['caf\u00e9 \ud83d\ude00', 'b']), 2), [
      'caf\u00e9 \ud83d\ude00',
      'b',
    ]);
  });

  it('when text has a NUL or an unpaired surrogate, then it is not storable; other text is', () => {
    assert.equal(isStorableText('a\u0000b'), false);
    assert.equal(isStorableText('\ud800'), false);
    assert.equal(isStorableText('\ude00x'), false);
    assert.equal(isStorableText('\ud83d\ude00 ok'), true);
    assert.equal(isStorableText(''), true);
  });

  it('when a time is not written as toISOString writes it, then it is not an instant', () => {
    assert.equal(isInstant('2026-02-03T04:05:06.789Z'), true);
    for (const text of ['1', 'Tue, 31 Feb 2026', '2026-02-31T00:00:00.000Z', '2026-02-03', 'now']) {
      assert.equal(isInstant(text), false, text);
    }
  });

  it('card numbers: the Luhn checksum decides', () => {
    assert.equal(isLuhnValid('4242424242424242'), true);
    assert.equal(isLuhnValid('4000000000000002'), true);
    assert.equal(isLuhnValid('4242424242424241'), false);
    assert.equal(isLuhnValid('4242-4242-4242-4242'), false);
  });

  it('uuids: canonical form only', () => {
    assert.equal(isUuid('0b0a2c3e-0d3f-4a5b-8c6d-7e8f9a0b1c2d'), true);
    assert.equal(isUuid('urn:uuid:0b0a2c3e-0d3f-4a5b-8c6d-7e8f9a0b1c2d'), false);
  });
});
