// The database plugin: the service's pool, its migrations (the chassis' tables first) and the retention worker
// that prunes spent rows; only for a service created with migrations.
import { ADMIN_MIGRATIONS } from '../admin/audit.ts';
import { createPool, migrate, type Pool } from '../db.ts';
import type { Health } from '../health.ts';
import { IDEMPOTENCY_MIGRATIONS, pruneExpiredIdempotencyKeys } from '../idempotency/index.ts';
import type { Logger } from '../logger.ts';
import { MESSAGING_MIGRATIONS, pruneInbox, pruneSentOutbox } from '../messaging/index.ts';
import { RetentionWorker } from '../retention.ts';
import type { Closers } from './closers.ts';
import type { BaseLiveConfig } from './config.ts';

export interface DatabasePluginOptions {
  name: string;
  migrations: URL | readonly URL[];
  config: BaseLiveConfig;
  log: Logger;
  health: Health;
  closers: Closers;
}

export async function databasePlugin(
  options: DatabasePluginOptions,
): Promise<{ db: Pool; retention: RetentionWorker }> {
  const { config, log } = options;
  const url = config.current.database.url;
  if (url === undefined) throw new Error(`${options.name} needs database.url (SOUK__DATABASE__URL)`);
  const db = createPool(url, { max: config.current.database.poolSize, applicationName: options.name });
  db.on('error', (error) => log.warn({ err: error }, 'idle database connection failed'));
  options.closers.add(() => db.end());
  const applied: string[] = [];
  // The chassis' own tables first: a service's tables may refer to them.
  for (const folder of [
    IDEMPOTENCY_MIGRATIONS,
    MESSAGING_MIGRATIONS,
    ADMIN_MIGRATIONS,
    options.migrations,
  ].flat()) {
    applied.push(...(await migrate(db, folder)));
  }
  if (applied.length > 0) log.info({ applied }, 'database migrated');
  options.health.addCheck('database', async () => {
    await db.query('SELECT 1');
  });

  const retention = new RetentionWorker({ db, log, intervalMs: () => config.current.retention.intervalMs });
  retention.add({
    name: 'idempotency-keys',
    keepMs: () => config.current.retention.idempotencyKeysMs,
    prune: pruneExpiredIdempotencyKeys,
  });
  retention.add({
    name: 'sent-events',
    keepMs: () => config.current.retention.sentEventsMs,
    prune: pruneSentOutbox,
  });
  retention.add({ name: 'inbox', keepMs: () => config.current.retention.inboxMs, prune: pruneInbox });
  return { db, retention };
}
