import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { continueTrace, currentTrace, withTrace } from './trace-context.ts';

describe('trace context', () => {
  it('when a valid traceparent arrives, then the new span keeps its trace id and gets its own span id', () => {
    const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const span = continueTrace(parent);
    assert.equal(span.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.notEqual(span.spanId, '00f067aa0ba902b7');
    assert.match(span.traceparent, /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
  });

  it('when the traceparent is missing or malformed, then a new trace starts', () => {
    for (const header of [undefined, 'garbage', '00-00000000000000000000000000000000-00f067aa0ba902b7-01']) {
      assert.match(continueTrace(header).traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    }
  });

  it('inside withTrace, asynchronous code sees the span; outside, none', async () => {
    const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await withTrace(parent, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      assert.equal(currentTrace()?.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    });
    assert.equal(currentTrace(), undefined);
  });
});
