// gRPC spans: the caller's CLIENT span sends its `traceparent` as metadata, the server's SERVER span continues
// it, as the HTTP plugin does for headers.
import { SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import type { Metadata } from '@grpc/grpc-js';
import { contextFromHeaders, inSpan, traceHeaders } from './tracer.ts';

const rpcAttributes = (service: string, method: string) => ({
  'rpc.system': 'grpc',
  'rpc.service': service,
  'rpc.method': method,
});

/** The gRPC status code (a number) of a failed call, when it has one. */
const statusOf = (error: unknown): number | undefined => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
};

/** Makes one call as a CLIENT span; `metadata` gets the span's `traceparent` before `call` sends it. */
export function traceGrpcCall<T>(
  service: string,
  method: string,
  metadata: Metadata,
  call: () => Promise<T>,
): Promise<T> {
  return inSpan(
    `${service}/${method}`,
    { kind: SpanKind.CLIENT, attributes: rpcAttributes(service, method) },
    async (span) => {
      for (const [key, value] of Object.entries(traceHeaders())) metadata.set(key, value);
      try {
        const result = await call();
        span.setAttribute('rpc.grpc.status_code', 0);
        return result;
      } catch (error) {
        const code = statusOf(error);
        if (code !== undefined) span.setAttribute('rpc.grpc.status_code', code);
        throw error;
      }
    },
  );
}

/**
 * Serves one call as a SERVER span continuing the caller's trace; `work` reports the status it answered with
 * through `answered`. Server-side, only codes that mean the server failed mark the span as failed.
 */
export function serveGrpcInSpan(
  service: string,
  method: string,
  metadata: Metadata,
  work: (answered: (code: number) => void) => Promise<void>,
): Promise<void> {
  return inSpan(
    `${service}/${method}`,
    {
      kind: SpanKind.SERVER,
      parent: contextFromHeaders(metadata.getMap()),
      attributes: rpcAttributes(service, method),
    },
    (span: Span) =>
      work((code) => {
        span.setAttribute('rpc.grpc.status_code', code);
        if (SERVER_FAULTS.has(code)) span.setStatus({ code: SpanStatusCode.ERROR });
      }),
  );
}

/** UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS (OpenTelemetry's rule). */
const SERVER_FAULTS = new Set([2, 4, 12, 13, 14, 15]);
