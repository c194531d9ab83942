// Run once by `npm test` (--test-global-setup) around every test file: PostgreSQL for the tests when the
// machine has none. Test files run in child processes started afterwards, so they see the URL set here.
import { provideTestDatabase, type StartedTestDatabase } from './test-database.ts';

let started: StartedTestDatabase | undefined;

export async function globalSetup(): Promise<void> {
  started = await provideTestDatabase(process.env);
  if (started === undefined) return;
  process.env.SOUK_TEST_DATABASE_URL = started.url;
  console.log(
    `No PostgreSQL on 127.0.0.1:5432: the tests use an embedded one on ${new URL(started.url).host}.`,
  );
}

export async function globalTeardown(): Promise<void> {
  await started?.stop();
}
