// Tracing is configured only by OpenTelemetry's standard variables, so any OTLP backend (Jaeger, Tempo, a
// collector) is pointed at the way its documentation says. Values the specification does not allow are
// reported as warnings and replaced by its defaults, as every OpenTelemetry SDK does, rather than stopping the
// service over its telemetry.

export type OtlpProtocol = 'http/protobuf' | 'http/json';

export type SamplerName =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';

export interface TracingConfig {
  serviceName: string;
  /** Where spans go; absent when nothing is to be exported (no endpoint, `none`, or the SDK disabled). */
  export?: {
    /** The full URL of the traces endpoint, e.g. `http://localhost:4318/v1/traces`. */
    url: string;
    protocol: OtlpProtocol;
    /** The batch span processor's `OTEL_BSP_*` settings. */
    batch: {
      scheduledDelayMillis: number;
      exportTimeoutMillis: number;
      maxQueueSize: number;
      maxExportBatchSize: number;
    };
  };
  sampler: { name: SamplerName; ratio: number };
  /** What was ignored and why, for the service to log once at start. */
  warnings: string[];
}

const SAMPLERS: readonly SamplerName[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];

const PROTOCOLS: readonly OtlpProtocol[] = ['http/protobuf', 'http/json'];

const set = (value: string | undefined): string | undefined => {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
};

/** Reads the `OTEL_*` variables that concern traces; `defaultServiceName` stands when OTEL_SERVICE_NAME is unset. */
export function tracingConfig(env: NodeJS.ProcessEnv, defaultServiceName: string): TracingConfig {
  const warnings: string[] = [];
  const serviceName = set(env.OTEL_SERVICE_NAME) ?? defaultServiceName;
  const sampler = samplerFrom(env, warnings);
  const exporting = exportFrom(env, warnings);
  return { serviceName, sampler, warnings, ...(exporting === undefined ? {} : { export: exporting }) };
}

function samplerFrom(env: NodeJS.ProcessEnv, warnings: string[]): TracingConfig['sampler'] {
  const given = set(env.OTEL_TRACES_SAMPLER)?.toLowerCase();
  let name: SamplerName = 'parentbased_always_on';
  if (given !== undefined) {
    if ((SAMPLERS as readonly string[]).includes(given)) name = given as SamplerName;
    else
      warnings.push(
        `OTEL_TRACES_SAMPLER '${given}' is not supported (one of ${SAMPLERS.join(', ')}); using parentbased_always_on`,
      );
  }
  let ratio = 1;
  const argument = set(env.OTEL_TRACES_SAMPLER_ARG);
  if (argument !== undefined && name.endsWith('traceidratio')) {
    const parsed = Number(argument);
    if (Number.isFinite(parsed) && parsed >= 0 && parsed <= 1) ratio = parsed;
    else warnings.push(`OTEL_TRACES_SAMPLER_ARG '${argument}' is not a ratio between 0 and 1; using 1`);
  }
  return { name, ratio };
}

function exportFrom(env: NodeJS.ProcessEnv, warnings: string[]): TracingConfig['export'] {
  if (set(env.OTEL_SDK_DISABLED)?.toLowerCase() === 'true') return undefined;
  const exporters = (set(env.OTEL_TRACES_EXPORTER) ?? 'otlp')
    .toLowerCase()
    .split(',')
    .map((name) => name.trim());
  if (exporters.includes('none')) return undefined;
  for (const exporter of exporters.filter((name) => name !== 'otlp'))
    warnings.push(`OTEL_TRACES_EXPORTER '${exporter}' is not supported; only otlp (or none) is`);

  const url = endpointFrom(env, warnings);
  if (url === undefined) return undefined;

  const protocolGiven = (
    set(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) ?? set(env.OTEL_EXPORTER_OTLP_PROTOCOL)
  )?.toLowerCase();
  let protocol: OtlpProtocol = 'http/protobuf';
  if (protocolGiven !== undefined) {
    if ((PROTOCOLS as readonly string[]).includes(protocolGiven)) protocol = protocolGiven as OtlpProtocol;
    else
      warnings.push(
        `OTEL_EXPORTER_OTLP_PROTOCOL '${protocolGiven}' is not supported (${PROTOCOLS.join(' or ')}, on the collector's HTTP port, usually 4318); using http/protobuf`,
      );
  }
  const count = (name: string, fallback: number, minimum: number): number => {
    const given = set(env[name]);
    if (given === undefined) return fallback;
    const parsed = Number(given);
    if (Number.isInteger(parsed) && parsed >= minimum) return parsed;
    warnings.push(`${name} '${given}' is not an integer of at least ${minimum}; using ${fallback}`);
    return fallback;
  };
  const maxQueueSize = count('OTEL_BSP_MAX_QUEUE_SIZE', 2048, 1);
  const batch = {
    scheduledDelayMillis: count('OTEL_BSP_SCHEDULE_DELAY', 5000, 0),
    exportTimeoutMillis: count('OTEL_BSP_EXPORT_TIMEOUT', 30_000, 1),
    maxQueueSize,
    // The specification: a batch larger than the queue is the queue.
    maxExportBatchSize: Math.min(count('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512, 1), maxQueueSize),
  };
  return { url, protocol, batch };
}

/** The traces endpoint: the signal's own variable as it is, or the base endpoint with `v1/traces` appended. */
function endpointFrom(env: NodeJS.ProcessEnv, warnings: string[]): string | undefined {
  const own = set(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  const base = set(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const [name, url] =
    own !== undefined
      ? ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', own]
      : base !== undefined
        ? ['OTEL_EXPORTER_OTLP_ENDPOINT', `${base}${base.endsWith('/') ? '' : '/'}v1/traces`]
        : [undefined, undefined];
  if (url === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    warnings.push(`${name} '${own ?? base}' is not a URL; exporting no traces`);
    return undefined;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    warnings.push(`${name} '${own ?? base}' is not an http(s) URL; exporting no traces`);
    return undefined;
  }
  return parsed.href;
}
