import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Type from 'typebox';
import { once } from '../messaging/inbox.ts';
import { eventually } from '../messaging/test-helpers.ts';
import { YamlFileConfigSource } from '../config-sources/file.ts';
import { EtcdConfigSource, configKey, connectEtcd } from '../config-sources/etcd.ts';
import { withTransaction } from '../db.ts';
import { createService, type Service, type ServiceConfig } from '../service.ts';
import {
  createTestDatabase,
  skipWithoutEtcd,
  startTestEtcd,
  testEnvironment,
  type TestDatabase,
} from '../testing.ts';

const settings = { limit: Type.Integer({ minimum: 1, default: 10 }) };
const fixtures = new URL('../test-fixtures/migrations/', import.meta.url);
const exp = () => Math.floor(Date.now() / 1000) + 600;

describe('the admin API every service answers about itself', () => {
  const databases: TestDatabase[] = [];
  let folder: string;
  let file: string;
  let service: Service<ServiceConfig<typeof settings>>;
  let broken = true;
  const applied: string[] = [];

  const as = (role: 'admin' | 'customer', sub = `${role}-1`) => ({
    'x-souk-identity': service.identity.sign({ kind: 'user', sub, role, exp: exp() }),
  });
  const inject = (
    method: 'GET' | 'PUT' | 'POST',
    url: string,
    options: { payload?: object; role?: 'admin' | 'customer' } = {},
  ) =>
    service.app.inject({
      method,
      url: `/api/admin/services/notes${url}`,
      headers: options.role === undefined ? {} : as(options.role),
      ...(options.payload === undefined ? {} : { payload: options.payload }),
    });

  before(async () => {
    const [db, bus] = await Promise.all([createTestDatabase('admin_notes'), createTestDatabase('admin_bus')]);
    databases.push(db, bus);
    folder = await mkdtemp(path.join(tmpdir(), 'souk-admin-'));
    file = path.join(folder, 'notes.yaml');
    await writeFile(file, '# the notes service\nlimit: 5\n');
    service = await createService({
      name: 'notes',
      description: 'Notes, for the admin API tests.',
      config: settings,
      migrations: fixtures,
      configSource: new YamlFileConfigSource(file),
      env: { ...testEnvironment(db.url), SOUK__MESSAGING__BUS_URL: bus.url },
    });
    // Fails while `broken`, once per message; the effect and the inbox row commit together.
    service.subscribe({
      group: 'notes',
      types: ['note.written'],
      maxAttempts: 1,
      handle: once(service.db, 'notes', async (tx, envelope) => {
        if (broken) throw new Error('the notes handler is broken');
        await tx.query('INSERT INTO notes (text) VALUES ($1)', [envelope.id]);
        applied.push(envelope.id);
      }),
    });
    await service.start();
  });

  after(async () => {
    await service?.stop();
    await Promise.all(databases.map((database) => database.drop()));
    await rm(folder, { recursive: true, force: true });
  });

  it('when a customer or nobody asks, then 403 and 401 as problem+json', async () => {
    for (const [url, method] of [
      ['/config', 'GET'],
      ['/config', 'PUT'],
      ['/messaging', 'GET'],
      ['/messaging/dead-letters/replay', 'POST'],
      ['/audit', 'GET'],
    ] as const) {
      const customer = await inject(method, url, { role: 'customer', payload: {} });
      assert.equal(customer.statusCode, 403, `${method} ${url}`);
      assert.match(String(customer.headers['content-type']), /application\/problem\+json/);
      assert.equal((await inject(method, url, { payload: {} })).statusCode, 401, `${method} ${url}`);
    }
  });

  it('when an admin reads the config, then the document, its version and the effective config without secrets', async () => {
    const response = await inject('GET', '/config', { role: 'admin' });
    assert.equal(response.statusCode, 200);
    const body = response.json<{
      document: string;
      version: string;
      effective: { limit: number; internal: { secret: string }; database: { url: string } };
    }>();
    assert.match(body.document, /limit: 5/);
    assert.equal(body.effective.limit, 5);
    assert.equal(body.effective.internal.secret, '(hidden)');
    assert.match(body.effective.database.url, /^postgres/);
  });

  it('when a change breaks the schema or is not YAML, then 400 naming the problem, and nothing is written', async () => {
    const invalid = await inject('PUT', '/config', { role: 'admin', payload: { document: 'limit: -3\n' } });
    assert.equal(invalid.statusCode, 400);
    const problem = invalid.json<{ code: string; errors: Array<{ field: string }> }>();
    assert.equal(problem.code, 'INVALID_CONFIG');
    assert.equal(problem.errors[0]?.field, '/limit');
    const malformed = await inject('PUT', '/config', { role: 'admin', payload: { document: 'limit: [' } });
    assert.equal(malformed.statusCode, 400);
    const unknownField = await inject('PUT', '/config', {
      role: 'admin',
      payload: { document: 'limit: 3', extra: true },
    });
    assert.equal(unknownField.statusCode, 400);
    assert.match(await readFile(file, 'utf8'), /limit: 5/);
  });

  it('when an admin asks for a dry run, then the diff comes back and nothing changes', async () => {
    const response = await inject('PUT', '/config?dryRun=true', {
      role: 'admin',
      payload: { document: 'limit: 7\n' },
    });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { diff: ['limit: 5 → 7'], applied: false });
    assert.match(await readFile(file, 'utf8'), /limit: 5/);
    assert.equal(service.config.current.limit, 5);
  });

  it('when an admin applies a change, then the service runs with it, the history and the audit say who did it', async () => {
    const { version } = (await inject('GET', '/config', { role: 'admin' })).json<{ version: string }>();
    const response = await inject('PUT', '/config', {
      role: 'admin',
      payload: { document: 'limit: 8\n', version },
    });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { diff: ['limit: 5 → 8'], applied: true });
    await eventually(() => service.config.current.limit === 8, 'the change applied');

    const history = (await inject('GET', '/config/history', { role: 'admin' })).json<{
      items: Array<{ actor: string; diff: string[]; document: string }>;
    }>();
    assert.deepEqual(history.items[0], {
      ...history.items[0],
      actor: 'admin-1',
      diff: ['limit: 5 → 8'],
      document: 'limit: 8\n',
    });
    const audit = (await inject('GET', '/audit', { role: 'admin' })).json<{
      items: Array<{ actor: string; action: string; target: string }>;
    }>();
    assert.deepEqual(
      audit.items.map(({ actor, action, target }) => ({ actor, action, target })),
      [{ actor: 'admin-1', action: 'config.apply', target: 'config/notes' }],
    );

    const stale = await inject('PUT', '/config', {
      role: 'admin',
      payload: { document: 'limit: 9\n', version },
    });
    assert.equal(stale.statusCode, 409);
    assert.equal(stale.json<{ code: string }>().code, 'CONFIG_CHANGED');
  });

  it('when a dead letter is replayed whose message was applied meanwhile, then the inbox skips it: applied once', async () => {
    const publish = (id?: string) =>
      withTransaction(service.db, (tx) =>
        service.outbox.add(tx, 'note.written', { text: 'hello' }, id === undefined ? {} : { id }),
      );
    await publish('note-1');
    const deadLetters = async () =>
      (await inject('GET', '/messaging', { role: 'admin' })).json<{
        outbox: { unsent: number };
        deadLetters: Array<{ group: string; items: Array<{ envelope: { id: string }; lastError: string }> }>;
      }>().deadLetters[0]!.items;
    await eventually(async () => (await deadLetters()).length === 1, 'dead-lettered', 10_000);
    const [dead] = await deadLetters();
    assert.equal(dead!.envelope.id, 'note-1');
    assert.match(dead!.lastError, /the notes handler is broken/);

    // The same message reaches the consumer again (a publisher's retry) once the handler works: applied.
    broken = false;
    await withTransaction(service.db, (tx) => tx.query(`DELETE FROM outbox WHERE id = 'note-1'`));
    await publish('note-1');
    await eventually(() => applied.length === 1, 'applied once');

    const replay = await inject('POST', '/messaging/dead-letters/replay', {
      role: 'admin',
      payload: { group: 'notes', ids: ['note-1'] },
    });
    assert.equal(replay.statusCode, 200);
    assert.deepEqual(replay.json(), { replayed: 1 });
    await eventually(async () => (await deadLetters()).length === 0, 'replayed and handled', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(applied, ['note-1']);
    const { rows } = await service.db.query<{ count: number }>('SELECT count(*)::int AS count FROM notes');
    assert.equal(rows[0]!.count, 1);

    const audit = (await inject('GET', '/audit', { role: 'admin' })).json<{
      items: Array<{ action: string; target: string }>;
    }>();
    assert.equal(audit.items[0]?.action, 'messaging.replay');
    assert.equal(audit.items[0]?.target, 'dead-letters/notes');
  });

  it('when a replay names a group the service does not consume as, then 404', async () => {
    const response = await inject('POST', '/messaging/dead-letters/replay', {
      role: 'admin',
      payload: { group: 'nobody' },
    });
    assert.equal(response.statusCode, 404);
  });
});

describe('the etcd config source as the admin API edits it', { skip: skipWithoutEtcd() }, () => {
  it('when a document is written, then the key holds it, the history has it, and a stale write is refused', async () => {
    const etcd = await startTestEtcd();
    const client = connectEtcd([etcd.url]);
    const source = new EtcdConfigSource('orders', [etcd.url]);
    try {
      await client.put(configKey('shared')).value('limit: 3\n');
      const before = await source.readDocument();
      assert.deepEqual(await source.loadWith('extra: 1\n'), { limit: 3, extra: 1 });
      const entry = { at: new Date().toISOString(), actor: 'admin-1', diff: ['a'], document: 'limit: 4\n' };
      await source.writeDocument('limit: 4\n', before.version, entry);
      assert.equal(await client.get(configKey('orders')).string(), 'limit: 4\n');
      assert.deepEqual(await source.history(10), [entry]);
      await assert.rejects(source.writeDocument('limit: 5\n', before.version, entry), /changed since/);
    } finally {
      source.close();
      client.close();
      await etcd.stop();
    }
  });
});
