import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PooledIdGenerator } from './ids.ts';

describe('pooled trace and span ids', () => {
  it('when many are drawn, across refills of the pool, then each is lower-case hex of its size and unique', () => {
    const ids = new PooledIdGenerator();
    const traces = new Set<string>();
    const spans = new Set<string>();
    // 8 KiB per fill: 20 000 of each crosses many refills.
    for (let i = 0; i < 20_000; i++) {
      const traceId = ids.generateTraceId();
      const spanId = ids.generateSpanId();
      assert.match(traceId, /^[0-9a-f]{32}$/);
      assert.match(spanId, /^[0-9a-f]{16}$/);
      assert.doesNotMatch(traceId, /^0+$/);
      traces.add(traceId);
      spans.add(spanId);
    }
    assert.equal(traces.size, 20_000);
    assert.equal(spans.size, 20_000);
  });

  it('when two generators draw, then they do not repeat each other', () => {
    const [a, b] = [new PooledIdGenerator(), new PooledIdGenerator()];
    assert.notEqual(a.generateTraceId(), b.generateTraceId());
  });
});
