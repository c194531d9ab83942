import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeCursor, encodeCursor, isLuhnValid, isUuid } from './index.ts';

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
