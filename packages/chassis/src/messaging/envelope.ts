// CloudEvents 1.0 envelopes, the one shape every Souk event travels in (structured mode, JSON).
import { randomUUID } from 'node:crypto';
import type { EventEnvelope, EventType, EventTypes } from '@souk/contracts';
import type { Envelope } from './transport.ts';

/** An event type outside the contract (tests, tools), whose data goes unchecked; a contract type never is. */
export type UncheckedEventType<T extends string> = T extends EventType ? never : T;

export interface EnvelopeOptions {
  /** The publishing service, e.g. `souk/orders`. */
  source: string;
  /** The entity the event is about, e.g. the order id. */
  subject?: string;
  /** Defaults to a random UUID. */
  id?: string;
  /** Defaults to the clock's now. */
  time?: Date | string;
  /** The W3C trace context of the operation that raised the event. */
  traceparent?: string;
  clock?: () => Date;
}

/** An envelope for one of the contract's events, its data checked against the contract. */
export function createEnvelope<T extends EventType>(
  type: T,
  data: EventTypes[T],
  options: EnvelopeOptions,
): EventEnvelope<T, EventTypes[T]>;
export function createEnvelope<T extends string>(
  type: UncheckedEventType<T>,
  data: unknown,
  options: EnvelopeOptions,
): EventEnvelope<T, unknown>;
export function createEnvelope(type: string, data: unknown, options: EnvelopeOptions): Envelope {
  if (type.length === 0) throw new TypeError('an event needs a type');
  if (options.source.length === 0) throw new TypeError('an event needs a source');
  const time = options.time ?? (options.clock ?? (() => new Date()))();
  return {
    specversion: '1.0',
    id: options.id ?? randomUUID(),
    type,
    source: options.source,
    time: typeof time === 'string' ? time : time.toISOString(),
    ...(options.subject === undefined ? {} : { subject: options.subject }),
    datacontenttype: 'application/json',
    ...(options.traceparent === undefined ? {} : { traceparent: options.traceparent }),
    data,
  };
}
