// Catalog paging and search, without I/O: cursors round-trip and refuse forgeries; wildcards stay literal.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeCatalogCursor, encodeCatalogCursor, isUuid, searchPattern } from './catalog-page.model.ts';

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** What PostgreSQL's `ILIKE pattern ESCAPE '\'` means, for checking the patterns we build. */
function ilike(text: string, pattern: string): boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '\\') source += escapeRegExp(pattern[++i] ?? '');
    else if (char === '%') source += '.*';
    else if (char === '_') source += '.';
    else source += escapeRegExp(char);
  }
  return new RegExp(`^${source}$`, 'isu').test(text);
}

describe('catalog cursor', () => {
  it('when a position is encoded, then it decodes to the same position', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200, unit: 'grapheme' }), fc.uuid(), (name, id) => {
        assert.deepEqual(decodeCatalogCursor(encodeCatalogCursor({ name, id })), { name, id });
      }),
    );
  });

  it('when a cursor is encoded, then it is URL-safe without escaping', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.uuid(), (name, id) => {
        assert.match(encodeCatalogCursor({ name, id }), /^[A-Za-z0-9_-]+$/);
      }),
    );
  });

  it('when any string is offered as a cursor, then it is refused unless it is exactly one we issue', () => {
    fc.assert(
      fc.property(fc.string(), (cursor) => {
        const position = decodeCatalogCursor(cursor);
        if (position !== undefined) assert.equal(encodeCatalogCursor(position), cursor);
      }),
    );
  });

  it('when the cursor is malformed, then it decodes to nothing', () => {
    const b64 = (text: string) => Buffer.from(text).toString('base64url');
    for (const cursor of [
      '',
      'not a cursor!',
      b64('{"name":"a"}'),
      b64('["a"]'),
      b64('["a", "not-a-uuid"]'),
      b64('[1, "6f1c1e52-4f7a-4a53-9d4e-0b0e6a8a2f10"]'),
      b64('["a","6f1c1e52-4f7a-4a53-9d4e-0b0e6a8a2f10"]') + 'A',
    ]) {
      assert.equal(decodeCatalogCursor(cursor), undefined, cursor);
    }
  });
});

describe('catalog search', () => {
  it('when the term is blank, then there is no filter', () => {
    assert.equal(searchPattern(undefined), undefined);
    assert.equal(searchPattern(''), undefined);
    assert.equal(searchPattern('   '), undefined);
  });

  it('when the term holds LIKE wildcards, then they match only themselves', () => {
    assert.equal(searchPattern('100%'), '%100\\%%');
    assert.equal(searchPattern('a_b\\c'), '%a\\_b\\\\c%');
    assert.equal(ilike('100 percent', searchPattern('100%')!), false);
    assert.equal(ilike('now 100% cotton', searchPattern('100%')!), true);
  });

  it('when any term is searched, then a text matches exactly when it contains the trimmed term, ignoring case', () => {
    const alphabet = fc.constantFrom('a', 'B', '%', '_', '\\', ' ', 'é', '.', '*');
    const text = fc.string({ unit: alphabet, maxLength: 12 });
    fc.assert(
      fc.property(text, text, (haystack, term) => {
        const pattern = searchPattern(term);
        if (pattern === undefined) return;
        assert.equal(ilike(haystack, pattern), haystack.toLowerCase().includes(term.trim().toLowerCase()));
      }),
    );
  });
});

describe('isUuid', () => {
  it('when the id is a canonical UUID in either case, then it is one; anything else is not', () => {
    assert.equal(isUuid('6f1c1e52-4f7a-4a53-9d4e-0b0e6a8a2f10'), true);
    assert.equal(isUuid('6F1C1E52-4F7A-4A53-9D4E-0B0E6A8A2F10'), true);
    assert.equal(isUuid('urn:uuid:6f1c1e52-4f7a-4a53-9d4e-0b0e6a8a2f10'), false);
    assert.equal(isUuid('42'), false);
  });
});
