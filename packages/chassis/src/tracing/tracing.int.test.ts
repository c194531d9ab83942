// The chassis' spans as a service exports them over OTLP: one service, created as every service is, with
// OTEL_EXPORTER_OTLP_ENDPOINT pointing at an in-test receiver (its own process: tracing is set once per process).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import {
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from '../../../../test/support/otlp-receiver.ts';
import { createService, type Service, type ServiceConfig } from '../service.ts';
import { MemoryConfigSource, createTestDatabase, testEnvironment, type TestDatabase } from '../testing.ts';

describe('spans exported by a service', () => {
  let receiver: OtlpReceiver;
  let database: TestDatabase;
  let service: Service<ServiceConfig<Record<never, never>>>;

  before(async () => {
    receiver = await startOtlpReceiver();
    database = await createTestDatabase('tracing');
    service = await createService({
      name: 'inventory',
      description: 'tracing test',
      migrations: new URL('../test-fixtures/migrations/', import.meta.url),
      env: {
        ...testEnvironment(database.url),
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_BSP_SCHEDULE_DELAY: '20',
      },
      configSource: new MemoryConfigSource({}),
    });
    service.app.post('/notes', async (_request, reply) => {
      const { rows } = await service.db.query("INSERT INTO notes (text) VALUES ('traced') RETURNING id");
      return reply.status(201).send(rows[0]);
    });
    service.app.get('/teapot', async (_request, reply) => reply.status(418).send({ short: true }));
    service.app.get('/boom', async () => {
      throw new Error('broken');
    });
    await service.app.ready();
  });

  after(async () => {
    await service?.stop();
    await database?.drop();
    await receiver?.close();
  });

  /** The spans of `traceId`, once `count` of them arrived. */
  const spansOf = async (traceId: string, count: number): Promise<ReceivedSpan[]> => {
    const deadline = Date.now() + 5000;
    for (;;) {
      const spans = receiver.spans.filter((span) => span.traceId === traceId);
      if (spans.length >= count) return spans;
      assert.ok(Date.now() < deadline, `${count} spans of the trace within 5 s; got ${spans.length}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  const traceparent = () => {
    const traceId = randomBytes(16).toString('hex');
    const parentId = randomBytes(8).toString('hex');
    return { traceId, parentId, header: `00-${traceId}-${parentId}-01` };
  };

  it('when a request carries a traceparent, then its SERVER span continues it, and its query is a child CLIENT span', async () => {
    const { traceId, parentId, header } = traceparent();
    const response = await service.app.inject({
      method: 'POST',
      url: '/notes',
      headers: { traceparent: header },
    });
    assert.equal(response.statusCode, 201);
    const spans = await spansOf(traceId, 2);
    const server = spans.find((span) => span.kind === 'SERVER')!;
    assert.equal(server.name, 'POST /notes');
    assert.equal(server.service, 'inventory');
    assert.equal(server.parentSpanId, parentId);
    assert.equal(server.attributes['http.route'], '/notes');
    assert.equal(server.attributes['http.response.status_code'], 201);
    const query = spans.find((span) => span.kind === 'CLIENT')!;
    assert.equal(query.parentSpanId, server.spanId);
    assert.equal(query.name, `INSERT ${new URL(database.url).pathname.slice(1)}`);
    assert.equal(query.attributes['db.system.name'], 'postgresql');
    assert.equal(query.attributes['db.operation.name'], 'INSERT');
    assert.match(String(query.attributes['db.query.text']), /^INSERT INTO notes/);
  });

  it("when a handler fails, then its span is marked failed; a 4xx is the client's and is not", async () => {
    const failed = traceparent();
    assert.equal(
      (await service.app.inject({ url: '/boom', headers: { traceparent: failed.header } })).statusCode,
      500,
    );
    const refused = traceparent();
    assert.equal(
      (await service.app.inject({ url: '/teapot', headers: { traceparent: refused.header } })).statusCode,
      418,
    );
    const [boom] = await spansOf(failed.traceId, 1);
    const [teapot] = await spansOf(refused.traceId, 1);
    assert.equal(boom!.statusCode, 2);
    assert.equal(teapot!.statusCode, 0);
  });

  it('when the probes and /metrics are asked, or a query runs outside any request, then no span is made', async () => {
    const before = receiver.spans.length;
    for (const url of ['/health/live', '/health/ready', '/metrics'])
      assert.equal((await service.app.inject({ url })).statusCode, 200, url);
    await service.db.query('SELECT 1');
    // A traced request after them: once its span is in, anything they made would be too.
    const marker = traceparent();
    await service.app.inject({ url: '/teapot', headers: { traceparent: marker.header } });
    await spansOf(marker.traceId, 1);
    assert.deepEqual(
      receiver.spans
        .slice(before)
        .filter((span) => span.traceId !== marker.traceId)
        .map((span) => span.name),
      [],
    );
  });
});
