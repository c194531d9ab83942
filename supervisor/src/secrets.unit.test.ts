import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadOrCreateSecrets } from './secrets.ts';

describe('local secrets', () => {
  const dirs: string[] = [];
  const dir = async () => {
    const created = await mkdtemp(path.join(tmpdir(), 'souk-secrets-'));
    dirs.push(created);
    return created;
  };
  after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('when none exist, then they are made, kept with mode 600, and the same ones come back next start', async () => {
    const dataDir = await dir();
    const first = await loadOrCreateSecrets(dataDir, {});
    assert.equal(first.admin.generated, true);
    assert.ok(first.internalSecret.length >= 32);
    assert.equal((await stat(path.join(dataDir, 'secrets.json'))).mode & 0o777, 0o600);
    assert.deepEqual(await loadOrCreateSecrets(dataDir, {}), first);
  });

  it('when the admin is configured, then it is used and never written down', async () => {
    const dataDir = await dir();
    const secrets = await loadOrCreateSecrets(dataDir, {
      SOUK_ADMIN_EMAIL: 'me@example.com',
      SOUK_ADMIN_PASSWORD: 'configured-password',
    });
    assert.deepEqual(secrets.admin, {
      email: 'me@example.com',
      password: 'configured-password',
      generated: false,
    });
    assert.doesNotMatch(await readFile(path.join(dataDir, 'secrets.json'), 'utf8'), /configured-password/);
  });
});
