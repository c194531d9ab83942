import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ROOT_CONTEXT, SamplingDecision, SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import {
  activeTraceId,
  activeTraceparent,
  contextFromHeaders,
  contextFromTraceparent,
  inSpan,
  samplerFor,
} from './tracer.ts';

const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

describe('the trace context', () => {
  it('when a valid traceparent arrives, then a span continues its trace with an id of its own', async () => {
    await inSpan('work', { parent: contextFromTraceparent(PARENT) }, async (span) => {
      assert.equal(span.spanContext().traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
      assert.notEqual(span.spanContext().spanId, '00f067aa0ba902b7');
      assert.equal(activeTraceId(), '4bf92f3577b34da6a3ce929d0e0e4736');
      const [, traceId, spanId] = TRACEPARENT.exec(activeTraceparent() ?? '') ?? [];
      assert.equal(traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
      assert.equal(spanId, span.spanContext().spanId);
      // Exporting nothing here, it passes the caller's sampling decision on unchanged.
      assert.match(activeTraceparent() ?? '', /-01$/);
    });
    await inSpan('work', { parent: contextFromTraceparent(PARENT.replace(/01$/, '00')) }, async () => {
      assert.match(activeTraceparent() ?? '', /-00$/);
    });
  });

  it('when the traceparent is missing or malformed, then a new trace starts', async () => {
    for (const header of [
      undefined,
      '',
      'garbage',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
    ]) {
      await inSpan(
        'work',
        { parent: contextFromHeaders(header === undefined ? {} : { traceparent: header }) },
        async () => {
          assert.match(activeTraceparent() ?? '', TRACEPARENT, String(header));
          assert.notEqual(activeTraceId(), '00000000000000000000000000000000');
        },
      );
    }
  });

  it('inside a span, asynchronous code sees it; outside, no trace is active', async () => {
    await inSpan('outer', { parent: contextFromTraceparent(PARENT) }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(activeTraceId(), '4bf92f3577b34da6a3ce929d0e0e4736');
      await inSpan('inner', {}, async () => {
        assert.equal(activeTraceId(), '4bf92f3577b34da6a3ce929d0e0e4736');
      });
    });
    assert.equal(activeTraceId(), undefined);
    assert.equal(activeTraceparent(), undefined);
  });

  it('when the work throws, then the error reaches the caller', async () => {
    await assert.rejects(
      inSpan('failing', {}, async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
  });
});

describe('samplers', () => {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const decide = (name: Parameters<typeof samplerFor>[0]['name'], ratio: number, parentSampled?: boolean) => {
    const parent =
      parentSampled === undefined
        ? ROOT_CONTEXT
        : trace.setSpanContext(ROOT_CONTEXT, {
            traceId,
            spanId: '00f067aa0ba902b7',
            traceFlags: parentSampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
            isRemote: true,
          });
    return samplerFor({ name, ratio }).shouldSample(parent, traceId, 'span', SpanKind.SERVER, {}, [])
      .decision;
  };

  it('when always_on or always_off, then every span is sampled or none is', () => {
    assert.equal(decide('always_on', 1), SamplingDecision.RECORD_AND_SAMPLED);
    assert.equal(decide('always_off', 1), SamplingDecision.NOT_RECORD);
  });

  it('when parent-based, then a span follows its parent and a root follows the root sampler', () => {
    assert.equal(decide('parentbased_always_on', 1, false), SamplingDecision.NOT_RECORD);
    assert.equal(decide('parentbased_always_off', 1, true), SamplingDecision.RECORD_AND_SAMPLED);
    assert.equal(decide('parentbased_always_on', 1), SamplingDecision.RECORD_AND_SAMPLED);
    assert.equal(decide('parentbased_always_off', 1), SamplingDecision.NOT_RECORD);
  });

  it('when by trace id ratio, then 0 samples nothing and 1 everything', () => {
    assert.equal(decide('traceidratio', 0), SamplingDecision.NOT_RECORD);
    assert.equal(decide('traceidratio', 1), SamplingDecision.RECORD_AND_SAMPLED);
    assert.equal(decide('parentbased_traceidratio', 0, true), SamplingDecision.RECORD_AND_SAMPLED);
  });
});
