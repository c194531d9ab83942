// W3C trace context (`traceparent`) carried through everything one operation causes: the HTTP request, the
// calls it makes, the events it publishes and what their consumers do, so one trace id ties a log search together.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';

export interface TraceContext {
  traceId: string;
  spanId: string;
  /** The `traceparent` header value of this span. */
  traceparent: string;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const storage = new AsyncLocalStorage<TraceContext>();

const context = (traceId: string, flags = '01'): TraceContext => {
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-${flags}` };
};

/** A new span: in the trace `traceparent` names when it is valid, in a new trace otherwise. */
export function continueTrace(traceparent: string | undefined): TraceContext {
  const match = traceparent === undefined ? null : TRACEPARENT.exec(traceparent);
  if (match === null || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!))
    return context(randomBytes(16).toString('hex'));
  return context(match[1]!, match[3]);
}

/** Runs `work` as a span of the trace `traceparent` names (or of a new trace). */
export const withTrace = <T>(traceparent: string | undefined, work: () => T): T =>
  storage.run(continueTrace(traceparent), work);

/** The span the current code runs in, if any. */
export const currentTrace = (): TraceContext | undefined => storage.getStore();

/** Enters a span for the rest of the current asynchronous flow: a Fastify `onRequest` hook's `done`. */
export const runInTrace = (trace: TraceContext, next: () => void): void => storage.run(trace, next);
