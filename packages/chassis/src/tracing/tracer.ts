// The process's tracing: one OpenTelemetry context (AsyncLocalStorage) that carries the active span through
// everything a request or a message causes, W3C `traceparent` propagation, and the tracer the chassis makes
// its spans with.
//
// Why hand-written spans and no auto-instrumentation: Souk's services are ES modules run by Node's type
// stripping. OpenTelemetry's instrumentations patch modules as they load, which for ESM needs a loader hook
// registered before the app's first import (`node --import @opentelemetry/auto-instrumentations-node/register`
// or a hook of our own). Every way Souk starts (npm start, the fleet, containers, Kubernetes, and the tests,
// which create services inside the test process) would then need that flag, and a service started without it
// would silently record nothing. Every request, call, query and message of a Souk service passes through a few
// chassis functions (the http plugin, the upstream client, the pool's client, the relay, the transports'
// handler, the saga runner), so the spans are made there, identically however the process was started.
//
// Until `setupTracing` runs (and when it exports nothing), spans are non-recording (QuietTracer): they still get
// ids from the pooled generator, so log lines and the `traceparent` sent onwards carry a trace id, at next to no
// cost.
import {
  ROOT_CONTEXT,
  SpanKind,
  TraceFlags,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Attributes,
  type Context,
  type Span,
  type SpanOptions as ApiSpanOptions,
  type Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { randomUUID } from 'node:crypto';
import { PooledIdGenerator } from './ids.ts';
import type { TracingConfig } from './config.ts';

export { ROOT_CONTEXT, SpanKind, SpanStatusCode, type Attributes, type Context, type Span };

const TRACER_NAME = '@souk/chassis';
const ids = new PooledIdGenerator();

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());

/**
 * The tracer of a process that exports nothing: each span is only a new span id in its parent's trace (a new
 * trace at a root), keeping the parent's sampled flag for services further on that do export. The SDK's tracer
 * with an always-off sampler does the same at ten times the cost (attributes cleaned, a sampler asked, metrics),
 * paid twice per request by the gateway.
 */
class QuietTracer implements Tracer {
  startSpan(_name: string, options: ApiSpanOptions = {}, within: Context = context.active()): Span {
    const parent = options.root === true ? undefined : trace.getSpanContext(within);
    if (parent === undefined || !trace.isSpanContextValid(parent))
      return trace.wrapSpanContext({
        traceId: ids.generateTraceId(),
        spanId: ids.generateSpanId(),
        traceFlags: TraceFlags.NONE,
      });
    return trace.wrapSpanContext({
      traceId: parent.traceId,
      spanId: ids.generateSpanId(),
      traceFlags: parent.traceFlags,
      ...(parent.traceState === undefined ? {} : { traceState: parent.traceState }),
    });
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...rest: unknown[]): ReturnType<F> {
    const work = rest.at(-1) as F;
    const options = (rest.length > 1 ? rest[0] : undefined) as ApiSpanOptions | undefined;
    const within = (rest.length > 2 ? rest[1] : context.active()) as Context;
    const span = this.startSpan(name, options, within);
    return context.with(trace.setSpan(within, span), () => work(span)) as ReturnType<F>;
  }
}

let current: { tracer: Tracer; flush: () => Promise<void>; config?: TracingConfig } = {
  tracer: new QuietTracer(),
  flush: async () => {},
};

/** The tracer every chassis span is made with. */
export const tracer = (): Tracer => current.tracer;

export interface Tracing {
  /** What the process traces with; `export` is absent when nothing leaves it. */
  readonly config: TracingConfig;
  /** Sends what is buffered (on shutdown). */
  flush(): Promise<void>;
}

/**
 * Makes this process trace as `config` says. A process runs one service; a second call (tests that create
 * several services in one process) keeps the first configuration, which is the one its spans are named after.
 */
export async function setupTracing(config: TracingConfig): Promise<Tracing> {
  if (current.config === undefined)
    current = config.export === undefined ? { ...current, config } : await exportingTo(config, config.export);
  const { flush, config: inForce = config } = current;
  return { config: inForce, flush };
}

async function exportingTo(
  config: TracingConfig,
  exporting: NonNullable<TracingConfig['export']>,
): Promise<typeof current> {
  const provider = new TracerProvider({
    sampler: samplerFor(config.sampler),
    idGenerator: ids,
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: config.serviceName,
      'service.namespace': 'souk',
      'service.instance.id': randomUUID(),
    }),
    spanProcessors: [new BatchSpanProcessor({ exporter: await exporterFor(exporting), ...exporting.batch })],
  });
  // Code outside the chassis that asks OpenTelemetry's API for a tracer gets this one too.
  trace.setGlobalTracerProvider(provider);
  return { tracer: provider.getTracer(TRACER_NAME), flush: () => provider.forceFlush(), config };
}

export function samplerFor({ name, ratio }: TracingConfig['sampler']): Sampler {
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }
}

/** The exporters are loaded only when something is exported: a process that exports nothing never loads them. */
async function exporterFor(exporting: NonNullable<TracingConfig['export']>): Promise<SpanExporter> {
  const options = { url: exporting.url, timeoutMillis: exporting.batch.exportTimeoutMillis };
  if (exporting.protocol === 'http/json') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter(options);
  }
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter(options);
}

const headerGetter = {
  get: (carrier: Record<string, unknown>, key: string): string | undefined => {
    const value = carrier[key];
    return typeof value === 'string' ? value : Array.isArray(value) ? (value[0] as string) : undefined;
  },
  keys: (carrier: Record<string, unknown>) => Object.keys(carrier),
};

/** The context a caller's headers (or metadata, or an envelope's fields) name: `traceparent`, `tracestate`. */
export const contextFromHeaders = (headers: Record<string, unknown>): Context =>
  propagation.extract(ROOT_CONTEXT, headers, headerGetter);

/** The context a stored `traceparent` names, or the root context when there is none. */
export const contextFromTraceparent = (traceparent: string | undefined): Context =>
  traceparent === undefined ? ROOT_CONTEXT : contextFromHeaders({ traceparent });

/** The `traceparent` (and `tracestate`) headers for a call made in `within` (the active context by default). */
export function traceHeaders(within: Context = context.active()): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(within, headers);
  return headers;
}

/** The active span's `traceparent`, to store with work done later (an outbox event). */
export const activeTraceparent = (): string | undefined => traceHeaders().traceparent;

/** The trace id of the active span, which every log line names. */
export const activeTraceId = (): string | undefined => trace.getActiveSpan()?.spanContext().traceId;

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** The parent; the active context by default. */
  parent?: Context;
}

/**
 * Runs `work` in a new span, which ends when `work` settles: a throw records the error and marks the span
 * failed. `work` gets the span to add attributes, and everything it causes is inside it.
 */
export function inSpan<T>(name: string, options: SpanOptions, work: (span: Span) => Promise<T>): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(name, { kind: options.kind, attributes: options.attributes }, parent);
  return context.with(trace.setSpan(parent, span), async () => {
    try {
      return await work(span);
    } catch (error) {
      failSpan(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** The context code runs in now: to hand work to a loop that runs it later, in its caller's trace. */
export const activeContext = (): Context => context.active();

/** Runs `work` in `within` (a span's context made elsewhere, as by startServerSpan). */
export const runWithin = <T>(within: Context, work: () => T): T => context.with(within, work);

/** Marks a span failed with `error`, recorded as an exception event. */
export function failSpan(span: Span, error: unknown): void {
  if (!span.isRecording()) return;
  if (error instanceof Error) span.recordException(error);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}
