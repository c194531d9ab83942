// Tracing: OpenTelemetry spans made by the chassis, configured by the standard OTEL_* variables (see tracer.ts
// for why the spans are hand-made rather than auto-instrumented).
export { tracingConfig, type OtlpProtocol, type SamplerName, type TracingConfig } from './config.ts';
export { PooledIdGenerator } from './ids.ts';
export {
  SpanKind,
  SpanStatusCode,
  activeTraceId,
  activeTraceparent,
  contextFromHeaders,
  contextFromTraceparent,
  failSpan,
  inSpan,
  runWithin,
  activeContext,
  ROOT_CONTEXT,
  samplerFor,
  setupTracing,
  traceHeaders,
  tracer,
  type Attributes,
  type Context,
  type Span,
  type SpanOptions,
  type Tracing,
} from './tracer.ts';
export { consumeInSpan, startPublishSpans } from './messaging.ts';
export { serveGrpcInSpan, traceGrpcCall } from './grpc.ts';
export { TracedClient } from './pg.ts';
export { endServerSpan, startServerSpan, traceRequests } from './http.ts';
export { startSagaAttempt, type AttemptOutcome, type SagaAttempt } from './saga.ts';
