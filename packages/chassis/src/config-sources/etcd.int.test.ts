import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Type from 'typebox';
import { parseConfig, watchConfig, type ConfigLog, type ReloadResult } from '../config.ts';
import { configSchema, createService, type Service, type ServiceConfig } from '../service.ts';
import { EtcdConfigSource, configKey, connectEtcd } from './etcd.ts';
import { skipWithoutEtcd, startTestEtcd, testEnvironment, type TestEtcd } from '../testing.ts';

const settings = {
  tier: Type.Object(
    {
      a: Type.String({ default: 'default' }),
      b: Type.String({ default: 'default' }),
      c: Type.String({ default: 'default' }),
      d: Type.String({ default: 'default' }),
    },
    { default: {} },
  ),
  limit: Type.Integer({ minimum: 1, default: 10 }),
};

describe('the etcd config source', { skip: skipWithoutEtcd() }, () => {
  let etcd: TestEtcd;
  let client: ReturnType<typeof connectEtcd>;
  let service: Service<ServiceConfig<typeof settings>>;

  before(async () => {
    etcd = await startTestEtcd();
    client = connectEtcd([etcd.url]);
    await client.put(configKey('shared')).value('tier: { b: shared, c: shared }\nlimit: 3\n');
    await client.put(configKey('inventory')).value('{"tier": {"c": "inventory"}}');
    await client.put(configKey('orders')).value('tier: { d: orders }');
    service = await createService({
      name: 'inventory',
      description: 'config test',
      config: settings,
      env: {
        ...testEnvironment(),
        SOUK_CONFIG_SOURCE: 'etcd',
        SOUK_ETCD_ENDPOINTS: etcd.url,
        SOUK__TIER__D: 'env',
      },
    });
  });

  after(async () => {
    await service?.stop();
    client?.close();
    await etcd?.stop();
  });

  it('when a service starts with SOUK_CONFIG_SOURCE=etcd, then defaults, shared, its own key and env merge in that order', () => {
    assert.deepEqual(service.config.current.tier, { a: 'default', b: 'shared', c: 'inventory', d: 'env' });
    assert.equal(service.config.current.limit, 3);
  });

  it('when the service key changes validly, then the live config has it within 2 s and the change is counted', async () => {
    await client.put(configKey('inventory')).value('tier: { c: changed }\nlimit: 7\n');
    await waitFor(() => service.config.current.limit === 7, 2000);
    assert.equal(service.config.current.tier.c, 'changed');
    assert.match(await metricsText(service), /config_reloads_total\{[^}]*result="applied"[^}]*\} 1\b/);
  });

  it('when the service key changes to an invalid value, then the old config stays and the refusal is counted', async () => {
    const before = service.config.current;
    await client.put(configKey('inventory')).value('tier: { c: changed }\nlimit: -3\n');
    await waitFor(async () => /result="refused"[^}]*\} 1\b/.test(await metricsText(service)), 2000);
    assert.equal(service.config.current, before);
    assert.equal(service.config.current.limit, 7);
  });

  it('when a change is refused, then it is logged with the schema error and the previous config kept', async () => {
    const logged: Array<{ level: string; obj: object; msg: string }> = [];
    const record =
      (level: string) =>
      (obj: object, msg: string): void => {
        logged.push({ level, obj, msg });
      };
    const log: ConfigLog = { info: record('info'), warn: record('warn'), error: record('error') };
    const results: ReloadResult[] = [];
    const schema = configSchema(settings);
    const { config, stop } = await watchConfig(
      (raw) => parseConfig(schema, raw),
      new EtcdConfigSource('orders', [etcd.url]),
      testEnvironment(),
      log,
      (result) => results.push(result),
    );
    try {
      assert.equal(config.current.tier.d, 'orders');
      await client.put(configKey('orders')).value('tier: { d: [not, a, string] }');
      await waitFor(() => results.includes('refused'), 2000);
      const refusal = logged.find((entry) => entry.level === 'error');
      assert.match(refusal?.msg ?? '', /refused/);
      assert.match(JSON.stringify(refusal?.obj), /\/tier\/d/);
      assert.equal(config.current.tier.d, 'orders');
    } finally {
      stop();
    }
  });

  it('when etcd goes away and comes back, then the last good config stays meanwhile and changes apply again', async () => {
    await etcd.kill();
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(service.config.current.limit, 7);
    await etcd.restart();
    await client.put(configKey('inventory')).value('tier: { c: back }\nlimit: 8\n');
    await waitFor(() => service.config.current.limit === 8, 10_000);
    assert.equal(service.config.current.tier.c, 'back');
  });

  it('when etcd does not answer at start, then the service fails with one line naming the endpoint', async () => {
    const started = Date.now();
    await assert.rejects(
      createService({
        name: 'orders',
        description: 'config test',
        env: { ...testEnvironment(), SOUK_CONFIG_SOURCE: 'etcd', SOUK_ETCD_ENDPOINTS: 'http://127.0.0.1:9' },
      }),
      (error: Error) => {
        assert.equal(error.name, 'ConfigSourceError');
        assert.match(error.message, /etcd did not answer.*127\.0\.0\.1:9/);
        assert.doesNotMatch(error.stack ?? '', /\n/);
        return true;
      },
    );
    assert.ok(Date.now() - started < 15_000);
  });
});

const metricsText = async (service: Service<ServiceConfig<typeof settings>>) =>
  (await service.app.inject({ url: '/metrics' })).body;

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
