import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '@souk/chassis/testing';
import pg from 'pg';
import { CONTROL_SECRET_HEADER, startControlEndpoint, type ControlEndpoint } from './control.ts';
import { ServiceProcess } from './service-process.ts';
import type { ServiceName } from './topology.ts';

describe("the supervisor's control endpoint (the break panel)", () => {
  let folder: string;
  let bus: TestDatabase;
  let child: ServiceProcess;
  let control: ControlEndpoint;
  const said: string[] = [];

  const ask = async (method: string, url: string, body?: unknown, secret = control.secret) => {
    const response = await fetch(`${control.url}${url}`, {
      method,
      headers: { [CONTROL_SECRET_HEADER]: secret, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  const eventually = async (condition: () => boolean, what: string) => {
    const deadline = Date.now() + 10_000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  before(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'souk-control-'));
    const entry = path.join(folder, 'idle.mjs');
    await writeFile(entry, 'setInterval(() => {}, 1000);\n');
    bus = await createTestDatabase('control_bus');
    child = new ServiceProcess({
      name: 'orders',
      entry,
      env: { PATH: process.env.PATH },
      cwd: folder,
      onLine: () => {},
      onExit: () => {},
    });
    child.start();
    control = await startControlEndpoint({
      processes: new Map<ServiceName, ServiceProcess>([['orders', child]]),
      busUrl: bus.url,
      say: (line) => said.push(line),
    });
  });

  after(async () => {
    await control?.close();
    await child?.stop(2000);
    await bus?.drop();
    await rm(folder, { recursive: true, force: true });
  });

  it('when the secret is missing or wrong, then 401 and nothing is done', async () => {
    const pid = child.pid;
    assert.equal((await ask('POST', '/break', { action: 'kill', service: 'orders' }, 'wrong')).status, 401);
    assert.equal((await ask('GET', '/instances', undefined, '')).status, 401);
    assert.equal(child.pid, pid);
  });

  it('when asked to kill a service, then its process dies and the supervisor starts it again', async () => {
    const listed = await ask('GET', '/instances');
    assert.deepEqual(listed.body.instances, [
      { service: 'orders', pid: child.pid, running: true, starts: 1 },
    ]);
    const before = child.pid;
    const killed = await ask('POST', '/break', { action: 'kill', service: 'orders' });
    assert.equal(killed.status, 202);
    assert.deepEqual(killed.body, { action: 'kill', service: 'orders', pid: before });
    await eventually(() => child.starts === 2 && child.pid !== undefined, 'restarted');
    assert.notEqual(child.pid, before);
    assert.match(said.join('\n'), /the console asked to kill orders/);
  });

  it('when asked about a service it does not run, then 404; an unknown action, 400', async () => {
    assert.equal((await ask('POST', '/break', { action: 'stop', service: 'nobody' })).status, 404);
    assert.equal((await ask('POST', '/break', { action: 'explode' })).status, 400);
  });

  it('when the body is over 10,000 characters, then 413 with a reason, and the connection is not reset', async () => {
    const answered = await ask('POST', '/break', {
      action: 'stop',
      service: 'orders',
      padding: 'x'.repeat(20_000),
    });
    assert.equal(answered.status, 413);
    assert.match(String(answered.body.detail), /over 10000 characters/);
  });

  it("when asked to drop the broker's connections, then every connection to the bus database is ended", async () => {
    const client = new pg.Client({ connectionString: bus.url });
    const ended = new Promise<Error>((resolve) => client.on('error', resolve));
    await client.connect();
    const dropped = await ask('POST', '/break', { action: 'drop-broker-connections' });
    assert.equal(dropped.status, 202);
    assert.ok((dropped.body.dropped as number) >= 1);
    assert.match((await ended).message, /terminat/);
    await client.end().catch(() => {});
  });
});
