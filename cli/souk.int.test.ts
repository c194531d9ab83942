import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { configKey, connectEtcd, parseConfig, parseYamlMapping } from '@souk/chassis';
import { skipWithoutEtcd, startTestEtcd, type TestEtcd } from '@souk/chassis/testing';
import { configSchemaOf } from './schemas.ts';

const run = promisify(execFile);
const CLI = new URL('./souk.ts', import.meta.url).pathname;
const SECRET = 'a-shared-secret-of-at-least-32-characters';

describe('souk config', { skip: skipWithoutEtcd() }, () => {
  let etcd: TestEtcd;
  let client: ReturnType<typeof connectEtcd>;

  const souk = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [CLI, ...args, `--endpoints=${etcd.url}`]);
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  };
  const stored = async (name: string) => (await client.get(configKey(name)).string()) ?? '';

  before(async () => {
    etcd = await startTestEtcd();
    client = connectEtcd([etcd.url]);
    await client.put(configKey('shared')).value(`internal: { secret: ${SECRET} }\n`);
    await client.put(configKey('gateway')).value('# tuned for the sale\nrateLimit:\n  loginMax: 100\n');
  });

  after(async () => {
    client?.close();
    await etcd?.stop();
  });

  it('when a valid value is set, then YAML the gateway schema accepts is written and the change printed', async () => {
    const result = await souk('config', 'set', 'gateway', 'rateLimit.max', '7');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), 'rateLimit.max: 6000 → 7');
    const text = await stored('gateway');
    assert.match(text, /# tuned for the sale/);
    const merged = {
      ...parseYamlMapping(await stored('shared'), 'shared'),
      ...parseYamlMapping(text, 'gateway'),
    };
    const config = parseConfig(configSchemaOf('gateway'), merged) as { rateLimit: Record<string, number> };
    assert.equal(config.rateLimit.max, 7);
    assert.equal(config.rateLimit.loginMax, 100);
  });

  it('when an invalid value is set, then the CLI exits non-zero with the schema error and etcd is unchanged', async () => {
    const before = await stored('gateway');
    const result = await souk('config', 'set', 'gateway', 'rateLimit.max', '-3');
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /^souk: refused.*\/rateLimit\/max must be >= 1\n$/);
    assert.equal(await stored('gateway'), before);
  });

  it('when a shared value would break one service, then it is refused naming the schema error', async () => {
    const result = await souk('config', 'set', 'shared', 'upstreams.inventory.retries', 'many');
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /\/upstreams\/inventory\/retries must be integer/);
    assert.doesNotMatch(await stored('shared'), /retries/);
  });

  it('when a value is read, then it is the merged one: defaults, shared, then the service key', async () => {
    await souk('config', 'set', 'shared', 'log.level', 'debug');
    const result = await souk('config', 'get', 'gateway', 'rateLimit');
    assert.equal(result.code, 0, result.stderr);
    const rateLimit = parseYamlMapping(result.stdout, 'stdout');
    assert.equal(rateLimit.max, 7);
    assert.equal(rateLimit.loginMax, 100);
    assert.equal(rateLimit.windowMs, 60_000);
    assert.equal((await souk('config', 'get', 'gateway', 'log.level')).stdout.trim(), 'debug');
  });

  it('when the file is edited in $EDITOR, then the saved YAML is validated before it is written', async () => {
    const edit = (editor: string) =>
      run(process.execPath, [CLI, 'config', 'edit', 'gateway', `--endpoints=${etcd.url}`], {
        env: { ...process.env, EDITOR: editor },
      }).then(
        ({ stdout }) => ({ code: 0, stdout }),
        (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
      );
    assert.deepEqual(await edit("sed -i 's/loginMax: 100/loginMax: 0/'"), { code: 1, stdout: '' });
    assert.match(await stored('gateway'), /loginMax: 100/);
    const saved = await edit("sed -i 's/loginMax: 100/loginMax: 50/'");
    assert.deepEqual(saved, { code: 0, stdout: 'rateLimit.loginMax: 100 → 50\n' });
  });
});
