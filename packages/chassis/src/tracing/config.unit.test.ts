import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tracingConfig } from './config.ts';

describe('tracing configuration from the OTEL_* variables', () => {
  it('when no endpoint is set, then nothing is exported and the service keeps its own name', () => {
    const config = tracingConfig({}, 'orders');
    assert.equal(config.export, undefined);
    assert.equal(config.serviceName, 'orders');
    assert.deepEqual(config.sampler, { name: 'parentbased_always_on', ratio: 1 });
    assert.deepEqual(config.warnings, []);
  });

  it('when the base endpoint is set, then traces go to its /v1/traces over http/protobuf, batched by default', () => {
    const config = tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318' }, 'orders');
    assert.deepEqual(config.export, {
      url: 'http://localhost:4318/v1/traces',
      protocol: 'http/protobuf',
      batch: {
        scheduledDelayMillis: 5000,
        exportTimeoutMillis: 30_000,
        maxQueueSize: 2048,
        maxExportBatchSize: 512,
      },
    });
    assert.equal(
      tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/otlp/' }, 'x').export?.url,
      'http://collector:4318/otlp/v1/traces',
    );
  });

  it('when the traces endpoint is set, then it is used as it is, before the base endpoint', () => {
    const config = tracingConfig(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://base:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example:443/custom',
      },
      'orders',
    );
    assert.equal(config.export?.url, 'https://traces.example/custom');
  });

  it('when the protocol is http/json, then JSON is sent; the traces protocol wins over the general one', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318' };
    assert.equal(
      tracingConfig({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, 'x').export?.protocol,
      'http/json',
    );
    assert.equal(
      tracingConfig(
        {
          ...endpoint,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
        },
        'x',
      ).export?.protocol,
      'http/protobuf',
    );
  });

  it('when the protocol is grpc or unknown, then http/protobuf is used and a warning says why', () => {
    for (const protocol of ['grpc', 'carrier-pigeon']) {
      const config = tracingConfig(
        { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318', OTEL_EXPORTER_OTLP_PROTOCOL: protocol },
        'x',
      );
      assert.equal(config.export?.protocol, 'http/protobuf');
      assert.match(config.warnings.join('\n'), new RegExp(`'${protocol}' is not supported`));
    }
  });

  it('when the endpoint is not an http(s) URL, then nothing is exported and a warning says why', () => {
    for (const endpoint of ['not a url', 'ftp://localhost:4318']) {
      const config = tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }, 'x');
      assert.equal(config.export, undefined);
      assert.equal(config.warnings.length, 1, config.warnings.join('\n'));
    }
  });

  it('when the SDK is disabled or the exporter is none, then nothing is exported, endpoint or not', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318' };
    assert.equal(tracingConfig({ ...endpoint, OTEL_SDK_DISABLED: 'true' }, 'x').export, undefined);
    assert.equal(tracingConfig({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }, 'x').export, undefined);
    assert.notEqual(tracingConfig({ ...endpoint, OTEL_SDK_DISABLED: 'false' }, 'x').export, undefined);
  });

  it('when OTEL_SERVICE_NAME is set, then it names the service', () => {
    assert.equal(
      tracingConfig({ OTEL_SERVICE_NAME: 'souk-orders-eu' }, 'orders').serviceName,
      'souk-orders-eu',
    );
    assert.equal(tracingConfig({ OTEL_SERVICE_NAME: '  ' }, 'orders').serviceName, 'orders');
  });

  it('when a sampler and its ratio are given, then they are used; the ratio only for ratio samplers', () => {
    assert.deepEqual(
      tracingConfig({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }, 'x')
        .sampler,
      { name: 'parentbased_traceidratio', ratio: 0.25 },
    );
    assert.deepEqual(
      tracingConfig({ OTEL_TRACES_SAMPLER: 'TraceIdRatio', OTEL_TRACES_SAMPLER_ARG: '0' }, 'x').sampler,
      {
        name: 'traceidratio',
        ratio: 0,
      },
    );
    assert.deepEqual(
      tracingConfig({ OTEL_TRACES_SAMPLER: 'always_off', OTEL_TRACES_SAMPLER_ARG: '7' }, 'x'),
      {
        serviceName: 'x',
        sampler: { name: 'always_off', ratio: 1 },
        warnings: [],
      },
    );
  });

  it('when the sampler or its ratio is invalid, then the defaults stand and a warning says why', () => {
    const unknown = tracingConfig({ OTEL_TRACES_SAMPLER: 'jaeger_remote' }, 'x');
    assert.equal(unknown.sampler.name, 'parentbased_always_on');
    assert.match(unknown.warnings[0]!, /jaeger_remote/);
    for (const ratio of ['1.5', '-0.1', 'half', 'NaN']) {
      const config = tracingConfig(
        { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: ratio },
        'x',
      );
      assert.equal(config.sampler.ratio, 1, ratio);
      assert.match(config.warnings[0]!, /OTEL_TRACES_SAMPLER_ARG/);
    }
  });

  it('when batch settings are given, then they are used; invalid ones fall back with a warning', () => {
    const config = tracingConfig(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318',
        OTEL_BSP_SCHEDULE_DELAY: '200',
        OTEL_BSP_MAX_QUEUE_SIZE: '100',
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '512',
        OTEL_BSP_EXPORT_TIMEOUT: 'soon',
      },
      'x',
    );
    assert.deepEqual(config.export?.batch, {
      scheduledDelayMillis: 200,
      exportTimeoutMillis: 30_000,
      maxQueueSize: 100,
      maxExportBatchSize: 100,
    });
    assert.match(config.warnings.join('\n'), /OTEL_BSP_EXPORT_TIMEOUT 'soon'/);
  });
});
