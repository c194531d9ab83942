import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Type from 'typebox';
import { StrictObject } from '@souk/contracts';
import { createService, type Service, type ServiceConfig } from './service.ts';
import { MemoryConfigSource, createTestDatabase, testEnvironment, type TestDatabase } from './testing.ts';
import { requireAdmin } from './auth.ts';
import { StaticRegistry } from './registry/index.ts';
import { UpstreamClient } from './resilience.ts';

const extra = { greeting: Type.String({ default: 'hello' }) };

describe('createService', () => {
  let database: TestDatabase;
  let service: Service<ServiceConfig<typeof extra>>;
  const source = new MemoryConfigSource({});

  before(async () => {
    database = await createTestDatabase('chassis');
    service = await createService({
      name: 'users',
      description: 'chassis test',
      config: extra,
      migrations: new URL('./test-fixtures/migrations/', import.meta.url),
      env: testEnvironment(database.url),
      configSource: source,
    });
    service.app.post(
      '/notes',
      { schema: { body: StrictObject({ text: Type.String({ minLength: 1 }) }) } },
      async (request, reply) => {
        const { rows } = await service.db.query('INSERT INTO notes (text) VALUES ($1) RETURNING id', [
          request.body.text,
        ]);
        return reply.status(201).send(rows[0]);
      },
    );
    service.app.get('/greeting', async () => ({ greeting: service.config.current.greeting }));
    service.app.get('/notes/:id', async (request) => request.params);
    service.app.get('/admin', async (request) => requireAdmin(request));
    const unreachable = new UpstreamClient(
      'inventory',
      new StaticRegistry(() => ({ inventory: 'http://127.0.0.1:9' })),
      {
        timeoutMs: 500,
        retries: 0,
        retryBaseDelayMs: 1,
        breaker: { consecutiveFailures: 5, halfOpenAfterMs: 1000 },
        bulkhead: { limit: 1, queue: 1 },
      },
    );
    service.onClose(() => unreachable.close());
    service.app.get('/needs-inventory', async () => unreachable.request({ method: 'GET', path: '/' }));
    service.app.get('/boom', async () => {
      throw new Error('secret internals');
    });
    await service.app.ready();
  });

  after(async () => {
    await service.stop();
    await database.drop();
  });

  it('when the body is valid, then the migrated table takes it', async () => {
    const response = await service.app.inject({ method: 'POST', url: '/notes', payload: { text: 'hi' } });
    assert.equal(response.statusCode, 201);
  });

  it('when the body has an unknown field, then 400 problem+json names it', async () => {
    const response = await service.app.inject({
      method: 'POST',
      url: '/notes',
      payload: { text: 'hi', role: 'admin' },
    });
    assert.equal(response.statusCode, 400);
    assert.match(response.headers['content-type'] as string, /application\/problem\+json/);
    assert.equal(response.json().code, 'VALIDATION_FAILED');
    assert.match(response.json().detail, /unknown field 'role'/);
  });

  it('when a field has the wrong type, then 400 and no coercion', async () => {
    const response = await service.app.inject({ method: 'POST', url: '/notes', payload: { text: 5 } });
    assert.equal(response.statusCode, 400);
  });

  it('when the body is not JSON, then 400 MALFORMED_JSON', async () => {
    const response = await service.app.inject({
      method: 'POST',
      url: '/notes',
      headers: { 'content-type': 'application/json' },
      payload: '{"text":',
    });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().code, 'MALFORMED_JSON');
  });

  it('when any string of a body holds a NUL or an unpaired surrogate, then 400 INVALID_TEXT names the field', async () => {
    for (const payload of ['{"text":"a\\u0000b"}', '{"text":"\\ud800"}', '{"text":"ok","x":["\\udc00"]}']) {
      const response = await service.app.inject({
        method: 'POST',
        url: '/notes',
        headers: { 'content-type': 'application/json' },
        payload,
      });
      assert.equal(response.statusCode, 400, payload);
      assert.match(response.headers['content-type'] as string, /application\/problem\+json/);
      assert.equal(response.json().code, 'INVALID_TEXT');
      assert.match(response.json().detail, /^body\.(text|x\.0): /);
    }
    const { rows } = await service.db.query("SELECT count(*)::int AS n FROM notes WHERE text <> 'hi'");
    assert.equal(rows[0].n, 0);
  });

  it('when a query or path of a route without a schema holds a NUL, then 400 INVALID_TEXT', async () => {
    const query = await service.app.inject({ url: '/greeting?name=a%00b' });
    assert.equal(query.statusCode, 400);
    assert.equal(query.json().code, 'INVALID_TEXT');
    assert.match(query.json().detail, /^query\.name: /);
    const params = await service.app.inject({ url: '/notes/a%00b' });
    assert.equal(params.json().code, 'INVALID_TEXT');
    assert.match(params.json().detail, /^params\.id: /);
  });

  it('when a body sets __proto__, then 400 FORBIDDEN_FIELD says that key was refused', async () => {
    const response = await service.app.inject({
      method: 'POST',
      url: '/notes',
      headers: { 'content-type': 'application/json' },
      payload: '{"text":"hi","__proto__":{"admin":true}}',
    });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().code, 'FORBIDDEN_FIELD');
    assert.match(response.json().detail, /body\.__proto__: the field '__proto__' is refused/);
  });

  it('when a path segment is over 100 characters or not UTF-8, then a problem with a stable code', async () => {
    const long = await service.app.inject({ url: `/notes/${'a'.repeat(101)}` });
    assert.equal(long.statusCode, 414);
    assert.match(long.headers['content-type'] as string, /application\/problem\+json/);
    assert.equal(long.json().code, 'PATH_TOO_LONG');
    const invalid = await service.app.inject({ url: '/notes/%ff' });
    assert.equal(invalid.statusCode, 400);
    assert.equal(invalid.json().code, 'INVALID_PATH');
  });

  it('when the body is over 1 MiB, then 413', async () => {
    const response = await service.app.inject({
      method: 'POST',
      url: '/notes',
      payload: { text: 'x'.repeat(1024 * 1024 + 1) },
    });
    assert.equal(response.statusCode, 413);
    assert.equal(response.json().code, 'BODY_TOO_LARGE');
  });

  it('when a dependency is unreachable, then 503 with Retry-After, not a 500', async () => {
    const response = await service.app.inject({ method: 'GET', url: '/needs-inventory' });
    assert.equal(response.statusCode, 503);
    assert.equal(response.json().code, 'DEPENDENCY_UNAVAILABLE');
    assert.equal(response.headers['retry-after'], '1');
  });

  it('when a handler fails, then 500 without the internals', async () => {
    const response = await service.app.inject({ method: 'GET', url: '/boom' });
    assert.equal(response.statusCode, 500);
    assert.doesNotMatch(response.body, /secret internals|at /);
  });

  it('when no identity is presented on a guarded route, then 401; a forged one is 401 too', async () => {
    assert.equal((await service.app.inject({ method: 'GET', url: '/admin' })).statusCode, 401);
    const forged = Buffer.from(JSON.stringify({ kind: 'user', sub: 'x', role: 'admin', exp: 9e9 })).toString(
      'base64url',
    );
    const response = await service.app.inject({
      method: 'GET',
      url: '/admin',
      headers: { 'x-souk-identity': `${forged}.AAAA` },
    });
    assert.equal(response.statusCode, 401);
  });

  it('when a customer calls an admin route, then 403; an admin passes', async () => {
    const exp = Math.floor(Date.now() / 1000) + 60;
    const customer = service.identity.sign({ kind: 'user', sub: 'u1', role: 'customer', exp });
    const admin = service.identity.sign({ kind: 'user', sub: 'u2', role: 'admin', exp });
    assert.equal(
      (await service.app.inject({ url: '/admin', headers: { 'x-souk-identity': customer } })).statusCode,
      403,
    );
    assert.equal(
      (await service.app.inject({ url: '/admin', headers: { 'x-souk-identity': admin } })).statusCode,
      200,
    );
  });

  it('when the config source changes, then the service sees the new value; an invalid change is ignored', async () => {
    source.set({ greeting: 'salaam' });
    await waitFor(async () => (await service.app.inject({ url: '/greeting' })).json().greeting === 'salaam');
    source.set({ greeting: { not: 'a string' } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal((await service.app.inject({ url: '/greeting' })).json().greeting, 'salaam');
  });

  it('health: live, ready with the database, metrics in Prometheus format', async () => {
    assert.equal((await service.app.inject({ url: '/health/live' })).statusCode, 200);
    const ready = await service.app.inject({ url: '/health/ready' });
    assert.equal(ready.statusCode, 200);
    assert.equal(ready.json().checks.database, 'up');
    const metrics = await service.app.inject({ url: '/metrics' });
    assert.match(metrics.body, /http_server_request_duration_seconds_count\{.*route="\/notes"/);
  });

  it('when a route is unknown, then 404 problem+json', async () => {
    const response = await service.app.inject({ url: '/nope' });
    assert.equal(response.statusCode, 404);
    assert.equal(response.json().code, 'ROUTE_NOT_FOUND');
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
