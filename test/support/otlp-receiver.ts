// An OTLP/HTTP trace receiver for tests: it accepts what a collector would on `/v1/traces`, protobuf or JSON
// (gzipped or not), decodes every span with its service's name, and answers as a collector does.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buffer } from 'node:stream/consumers';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';

/** A span as the tests look at it: ids as hex, kind by name, attributes as plain values. */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  kind: 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER' | 'UNSPECIFIED';
  attributes: Record<string, string | number | boolean>;
  /** 0 unset, 1 ok, 2 error. */
  statusCode: number;
  startNanos: bigint;
  endNanos: bigint;
}

export interface OtlpReceiver {
  /** The base URL, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  spans: ReceivedSpan[];
  /** The content types of the requests received, to tell which protocol the exporters spoke. */
  contentTypes: Set<string>;
  close(): Promise<void>;
}

// The part of opentelemetry-proto's trace service that spans need; protobuf skips the fields left out.
const PROTO = `
syntax = "proto3";
package otlp;
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeSpans { repeated Span spans = 2; }
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  bytes parent_span_id = 4;
  string name = 5;
  int32 kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9;
  Status status = 15;
}
message Status { string message = 2; int32 code = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    bytes bytes_value = 7;
  }
}
`;

const ExportTraceServiceRequest = protobuf
  .parse(PROTO, { keepCase: false })
  .root.lookupType('otlp.ExportTraceServiceRequest');

const KINDS: ReceivedSpan['kind'][] = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: KeyValue[];
  status?: { code?: number };
}

/** A request as OTLP/JSON has it; protobuf is converted to the same shape. */
interface OtlpRequest {
  resourceSpans?: {
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: { spans?: OtlpSpan[] }[];
  }[];
}

interface KeyValue {
  key: string;
  value?: { stringValue?: string; boolValue?: boolean; intValue?: string | number; doubleValue?: number };
}

const plain = (value: KeyValue['value']): string | number | boolean =>
  value?.stringValue ??
  value?.boolValue ??
  (value?.intValue === undefined ? undefined : Number(value.intValue)) ??
  value?.doubleValue ??
  '';

const attributes = (list: KeyValue[] | undefined) =>
  Object.fromEntries((list ?? []).map(({ key, value }) => [key, plain(value)]));

function decode(contentType: string, body: Buffer): OtlpRequest {
  if (contentType.startsWith('application/json')) return JSON.parse(body.toString('utf8')) as OtlpRequest;
  if (contentType.startsWith('application/x-protobuf')) {
    const message = ExportTraceServiceRequest.decode(body);
    // OTLP/JSON's own mapping: ids as hex (not protobuf JSON's base64), 64-bit numbers as strings.
    const hex = (bytes: unknown) => Buffer.from(bytes as Uint8Array).toString('hex');
    const object = ExportTraceServiceRequest.toObject(message, { longs: String, defaults: true }) as {
      resourceSpans: {
        resource?: { attributes: KeyValue[] };
        scopeSpans: {
          spans: (Omit<OtlpSpan, 'traceId' | 'spanId' | 'parentSpanId'> & Record<string, unknown>)[];
        }[];
      }[];
    };
    return {
      resourceSpans: object.resourceSpans.map((resourceSpans) => ({
        resource: resourceSpans.resource,
        scopeSpans: resourceSpans.scopeSpans.map((scope) => ({
          spans: scope.spans.map((span) => ({
            ...span,
            traceId: hex(span.traceId),
            spanId: hex(span.spanId),
            parentSpanId: hex(span.parentSpanId),
          })),
        })),
      })),
    };
  }
  throw new Error(`unsupported content type '${contentType}'`);
}

async function read(request: IncomingMessage): Promise<Buffer> {
  const body = await buffer(request);
  return request.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes = new Set<string>();
  const server = createServer((request, response) => {
    void (async () => {
      const contentType = request.headers['content-type'] ?? '';
      if (request.method !== 'POST' || request.url !== '/v1/traces') {
        response.writeHead(404).end();
        return;
      }
      try {
        const decoded = decode(contentType, await read(request));
        contentTypes.add(contentType.split(';', 1)[0]!);
        for (const resourceSpans of decoded.resourceSpans ?? []) {
          const service = String(attributes(resourceSpans.resource?.attributes)['service.name'] ?? '');
          for (const scope of resourceSpans.scopeSpans ?? [])
            for (const span of scope.spans ?? [])
              spans.push({
                service,
                traceId: span.traceId,
                spanId: span.spanId,
                parentSpanId: span.parentSpanId ?? '',
                name: span.name,
                kind: KINDS[span.kind ?? 0] ?? 'UNSPECIFIED',
                attributes: attributes(span.attributes),
                statusCode: span.status?.code ?? 0,
                startNanos: BigInt(span.startTimeUnixNano),
                endNanos: BigInt(span.endTimeUnixNano),
              });
        }
        // An empty ExportTraceServiceResponse: all accepted.
        if (contentType.startsWith('application/json'))
          response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        else response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      } catch (error) {
        response.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    contentTypes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The spans of one trace as an indented tree, in start order: for a test's diagnostics. */
export function renderTrace(spans: readonly ReceivedSpan[]): string {
  const ids = new Set(spans.map((span) => span.spanId));
  const children = new Map<string, ReceivedSpan[]>();
  for (const span of [...spans].sort((a, b) => (a.startNanos < b.startNanos ? -1 : 1))) {
    const parent = ids.has(span.parentSpanId) ? span.parentSpanId : '';
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const lines: string[] = [];
  const walk = (parent: string, depth: number) => {
    for (const span of children.get(parent) ?? []) {
      const ms = Number(span.endNanos - span.startNanos) / 1e6;
      lines.push(`${'  '.repeat(depth)}${span.service} ${span.kind} ${span.name} (${ms.toFixed(1)} ms)`);
      walk(span.spanId, depth + 1);
    }
  };
  walk('', 0);
  return lines.join('\n');
}
