// The bus hop as two spans: the relay's publish of an event (PRODUCER), a child of the operation that stored
// it in the outbox, and each consumer's handling of it (CONSUMER), a child of that publish. The envelope
// carries the link: the outbox stores the `traceparent` of the operation, and the relay sends each event
// with its PRODUCER span's `traceparent` instead.
import { SpanKind, context, trace, type Attributes } from '@opentelemetry/api';
import type { EventEnvelope } from '@souk/contracts';
import { contextFromTraceparent, failSpan, inSpan, traceHeaders, tracer } from './tracer.ts';

type Envelope = EventEnvelope<string, unknown>;

/** OpenTelemetry's names of the brokers behind Souk's transports. */
const SYSTEMS = { postgres: 'postgresql', amqp: 'rabbitmq' } as const;

const messageAttributes = (envelope: Envelope, transport: keyof typeof SYSTEMS | undefined): Attributes => ({
  ...(transport === undefined ? {} : { 'messaging.system': SYSTEMS[transport] }),
  'messaging.destination.name': envelope.type,
  'messaging.message.id': envelope.id,
});

/**
 * One PRODUCER span per event being published, each in its own event's trace. Publish the returned envelopes
 * (they carry their span's `traceparent`), then `end()` with the outcome.
 */
export function startPublishSpans(
  envelopes: readonly Envelope[],
  transport?: keyof typeof SYSTEMS,
): { envelopes: Envelope[]; end(error?: unknown): void } {
  const spans = envelopes.map((envelope) => {
    // An event stored outside any trace (a retention job, a test) is published in none: no new root per event.
    if (envelope.traceparent === undefined) return undefined;
    const parent = contextFromTraceparent(envelope.traceparent);
    return tracer().startSpan(
      `publish ${envelope.type}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          ...messageAttributes(envelope, transport),
          'messaging.operation.type': 'send',
          ...(envelopes.length > 1 ? { 'messaging.batch.message_count': envelopes.length } : {}),
        },
      },
      parent,
    );
  });
  return {
    envelopes: envelopes.map((envelope, index) => {
      const span = spans[index];
      if (span === undefined) return envelope;
      const { traceparent } = traceHeaders(trace.setSpan(context.active(), span));
      return traceparent === undefined ? envelope : { ...envelope, traceparent };
    }),
    end(error) {
      for (const span of spans) {
        if (span === undefined) continue;
        if (error !== undefined) failSpan(span, error);
        span.end();
      }
    },
  };
}

/** Runs a consumer's handling of `envelope` as a CONSUMER span, continuing the trace its publisher sent. */
export function consumeInSpan<T>(
  envelope: Envelope,
  group: string,
  transport: keyof typeof SYSTEMS | undefined,
  work: () => Promise<T>,
): Promise<T> {
  return inSpan(
    `process ${envelope.type}`,
    {
      kind: SpanKind.CONSUMER,
      parent: contextFromTraceparent(envelope.traceparent),
      attributes: {
        ...messageAttributes(envelope, transport),
        'messaging.operation.type': 'process',
        'messaging.consumer.group.name': group,
      },
    },
    work,
  );
}
