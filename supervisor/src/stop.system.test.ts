// Ctrl-C on `npm start`, as a terminal sends it: SIGINT to the whole foreground process group.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SERVICES = ['gateway', 'users', 'orders', 'payments', 'inventory', 'notifications'];
// Apart from `npm start` (54329, offset 0) and the system tests (54339, offset 10000).
const DATABASE_PORT = 54349;
const PORT_OFFSET = 12_000;

describe('stopping the shop', () => {
  const dirs: string[] = [];
  after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

  it('when Ctrl-C reaches the process group, then every service drains and exits before PostgreSQL stops, and nothing logs an error', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'souk-stop-'));
    dirs.push(dataDir);
    const supervisor = spawn(process.execPath, [fileURLToPath(new URL('main.ts', import.meta.url))], {
      env: {
        ...process.env,
        SOUK_DATA_DIR: dataDir,
        SOUK_DATABASE_PORT: String(DATABASE_PORT),
        SOUK_PORT_OFFSET: String(PORT_OFFSET),
        NO_COLOR: '1',
      },
      // A process group of its own, as a terminal gives a foreground job.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    const exited = new Promise<number | null>((resolve) => supervisor.once('exit', (code) => resolve(code)));
    const up = new Promise<void>((resolve, reject) => {
      for (const stream of [supervisor.stdout, supervisor.stderr]) {
        createInterface({ input: stream }).on('line', (line) => {
          lines.push(line);
          if (line.includes('Press Ctrl-C to stop.')) resolve();
        });
      }
      void exited.then(() => reject(new Error(`the shop did not start:\n${lines.join('\n')}`)));
    });
    await up;

    process.kill(-supervisor.pid!, 'SIGINT');
    const code = await exited;
    const output = lines.join('\n');

    assert.equal(code, 0, output);
    assert.doesNotMatch(output, /\b(ERROR|FATAL|PANIC)\b/, 'no error is logged');
    assert.doesNotMatch(output, /^\s+at \S+/m, 'no stack trace');
    const postgresStopped = lines.findIndex((line) => line.includes('✓ PostgreSQL stopped'));
    assert.notEqual(postgresStopped, -1, output);
    for (const service of SERVICES) {
      const stopped = lines.findIndex((line) => new RegExp(`^${service}\\s.* INFO stopped`).test(line));
      assert.ok(
        stopped !== -1 && stopped < postgresStopped,
        `${service} stopped before PostgreSQL\n${output}`,
      );
    }
  });
});
