// The gateway's process entry: a start that fails on its configuration says so in one line and exits with 1.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';

const main = new URL('./main.ts', import.meta.url).pathname;

async function runWith(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [main], {
    env: {
      PATH: process.env.PATH,
      SOUK_CONFIG_SOURCE: 'file',
      SOUK_CONFIG_FILE: '/nonexistent.yaml',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

describe('gateway main', () => {
  it('when a setting is invalid, then it exits with 1 and one stderr line naming the setting, no stack', async () => {
    const { code, stderr } = await runWith({
      SOUK__INTERNAL__SECRET: 'a-secret-that-is-long-enough-to-sign-identities',
      SOUK__HTTP__PORT: 'abc',
    });
    assert.equal(code, 1);
    const lines = stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, stderr);
    assert.match(lines[0]!, /^gateway did not start: invalid configuration: .*\/http\/port/);
    assert.doesNotMatch(stderr, /^\s+at /m);
  });
});
