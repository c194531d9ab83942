// Idempotency-key decisions, without I/O: replay, reuse, in progress, resume; header parsing; fingerprints.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  canonicalJson,
  decideOnExistingKey,
  parseIdempotencyKey,
  statusOf,
  type Answer,
  type KeyRecord,
} from './idempotency.ts';

const NOW = new Date('2030-01-01T12:00:00Z');
const later = (ms: number) => new Date(NOW.getTime() + ms);
const answer: Answer<unknown> = { ok: true, status: 201, value: { id: 'p1' } };

describe('decideOnExistingKey', () => {
  const completed: KeyRecord = { fingerprint: 'f1', state: 'COMPLETED', leasedUntil: null, answer };

  it('given a completed key, when the same request comes again, then the stored answer is replayed', () => {
    assert.deepEqual(decideOnExistingKey(completed, 'f1', NOW), { action: 'replay', answer });
  });

  it('given a used key, when another request comes with it, then it is refused as IDEMPOTENCY_KEY_REUSED (422), in progress or not', () => {
    for (const record of [completed, { ...completed, state: 'IN_PROGRESS' as const, answer: null }]) {
      const decision = decideOnExistingKey(record, 'f2', NOW);
      assert.equal(decision.action, 'refuse');
      assert.equal(decision.action === 'refuse' && decision.rejection.code, 'IDEMPOTENCY_KEY_REUSED');
      assert.equal(decision.action === 'refuse' && decision.rejection.status, 422);
    }
  });

  it('given a key in progress under a live lease, when the request comes again, then REQUEST_IN_PROGRESS (409)', () => {
    const record: KeyRecord = {
      fingerprint: 'f1',
      state: 'IN_PROGRESS',
      leasedUntil: later(1),
      answer: null,
    };
    const decision = decideOnExistingKey(record, 'f1', NOW);
    assert.equal(decision.action === 'refuse' && decision.rejection.code, 'REQUEST_IN_PROGRESS');
    assert.equal(decision.action === 'refuse' && decision.rejection.status, 409);
  });

  it('given a key in progress whose lease ran out or was let go, when the request comes again, then it resumes', () => {
    for (const leasedUntil of [NOW, later(-1), later(-60_000), null]) {
      const record: KeyRecord = { fingerprint: 'f1', state: 'IN_PROGRESS', leasedUntil, answer: null };
      assert.deepEqual(decideOnExistingKey(record, 'f1', NOW), { action: 'resume' });
    }
  });

  it('for any record and request, then a different fingerprint is always refused and the same one never is unless in progress', () => {
    const record = fc.record({
      fingerprint: fc.constantFrom('a', 'b'),
      state: fc.constantFrom('IN_PROGRESS' as const, 'COMPLETED' as const),
      leasedUntil: fc.option(fc.integer({ min: -10_000, max: 10_000 }).map(later)),
      answer: fc.constant(answer),
    });
    fc.assert(
      fc.property(record, fc.constantFrom('a', 'b'), (existing, fingerprint) => {
        const decision = decideOnExistingKey(existing, fingerprint, NOW);
        if (existing.fingerprint !== fingerprint) {
          assert.equal(decision.action === 'refuse' && decision.rejection.code, 'IDEMPOTENCY_KEY_REUSED');
        } else if (existing.state === 'COMPLETED') {
          assert.equal(decision.action, 'replay');
        } else {
          const live = existing.leasedUntil !== null && existing.leasedUntil > NOW;
          assert.equal(decision.action, live ? 'refuse' : 'resume');
        }
      }),
    );
  });
});

describe('parseIdempotencyKey', () => {
  it('when the header is a bare token or a structured-field string, then the key is its value', () => {
    assert.deepEqual(parseIdempotencyKey('order-1:charge'), { ok: true, value: 'order-1:charge' });
    assert.deepEqual(parseIdempotencyKey('"order-1:charge"'), { ok: true, value: 'order-1:charge' });
    assert.deepEqual(parseIdempotencyKey('"a \\"quoted\\" \\\\ key"'), {
      ok: true,
      value: 'a "quoted" \\ key',
    });
  });

  it('when the header is missing or empty, then IDEMPOTENCY_KEY_REQUIRED (400)', () => {
    for (const header of [undefined, '', '   ', '""']) {
      const outcome = parseIdempotencyKey(header);
      assert.equal(!outcome.ok && outcome.rejection.status, 400, String(header));
      assert.equal(
        !outcome.ok && outcome.rejection.code,
        header === '""' ? 'IDEMPOTENCY_KEY_INVALID' : 'IDEMPOTENCY_KEY_REQUIRED',
      );
    }
  });

  it('when the header is sent twice, too long, unterminated or not ASCII, then IDEMPOTENCY_KEY_INVALID (400)', () => {
    for (const header of [['a', 'b'], 'x'.repeat(256), '"open', 'clé', 'tab\tkey', '"bad \\n escape"']) {
      const outcome = parseIdempotencyKey(header);
      assert.equal(!outcome.ok && outcome.rejection.code, 'IDEMPOTENCY_KEY_INVALID', String(header));
    }
  });
});

describe('canonicalJson', () => {
  it('when two bodies hold the same fields in another order, then they serialise the same', () => {
    assert.equal(
      canonicalJson({ orderId: 'o', amount: { currency: 'USD', amount: 5 }, card: '4242' }),
      canonicalJson({ card: '4242', amount: { amount: 5, currency: 'USD' }, orderId: 'o' }),
    );
  });

  it('for any JSON value, then it parses back to the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        assert.deepEqual(JSON.parse(canonicalJson(value)), JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it('when a stored answer is read for its status, then a refusal gives its problem status', () => {
    assert.equal(statusOf(answer), 201);
    assert.equal(
      statusOf({ ok: false, rejection: { status: 402, code: 'PAYMENT_DECLINED', detail: 'no' } }),
      402,
    );
  });
});
