import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Type from 'typebox';
import { parseConfig, watchConfig, type ConfigLog, type ReloadResult } from '../config.ts';
import { YamlFileConfigSource } from './file.ts';

const schema = Type.Object({ limit: Type.Integer({ minimum: 1, default: 10 }) });

describe('the YAML file config source', () => {
  let folder: string;
  before(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'souk-config-file-'));
  });
  after(() => rm(folder, { recursive: true, force: true }));

  it('when the file changes to an invalid value, then the change is refused, logged and counted, the old value kept', async () => {
    const file = path.join(folder, 'orders.yaml');
    await writeFile(file, 'limit: 3\n');
    const results: ReloadResult[] = [];
    const errors: string[] = [];
    const log: ConfigLog = { info() {}, warn() {}, error: (_obj, msg) => void errors.push(msg) };
    const { config, stop } = await watchConfig(
      (raw) => parseConfig(schema, raw),
      new YamlFileConfigSource(file),
      {},
      log,
      (result) => results.push(result),
    );
    try {
      await writeFile(file, 'limit: 4\n');
      await waitFor(() => config.current.limit === 4);
      await writeFile(file, 'limit: -1\n');
      await waitFor(() => results.includes('refused'));
      assert.deepEqual(results, ['applied', 'refused']);
      assert.equal(config.current.limit, 4);
      assert.match(errors.join('\n'), /refused/);
    } finally {
      stop();
    }
  });

  it('when a mounted ConfigMap is updated (its ..data symlink swapped), then the new value applies', async () => {
    // The kubelet's layout: orders.yaml -> ..data/orders.yaml, ..data -> a timestamped folder, replaced at once.
    const mount = path.join(folder, 'configmap');
    await mkdir(path.join(mount, '..v1'), { recursive: true });
    await writeFile(path.join(mount, '..v1', 'orders.yaml'), 'limit: 3\n');
    await symlink('..v1', path.join(mount, '..data'));
    await symlink(path.join('..data', 'orders.yaml'), path.join(mount, 'orders.yaml'));
    const log: ConfigLog = { info() {}, warn() {}, error() {} };
    const { config, stop } = await watchConfig(
      (raw) => parseConfig(schema, raw),
      new YamlFileConfigSource(path.join(mount, 'orders.yaml')),
      {},
      log,
    );
    try {
      assert.equal(config.current.limit, 3);
      await mkdir(path.join(mount, '..v2'));
      await writeFile(path.join(mount, '..v2', 'orders.yaml'), 'limit: 7\n');
      await symlink('..v2', path.join(mount, '..data_tmp'));
      await rename(path.join(mount, '..data_tmp'), path.join(mount, '..data'));
      await waitFor(() => config.current.limit === 7);
    } finally {
      stop();
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
