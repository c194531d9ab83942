// Secrets of one local installation, made on first start and kept (mode 600) beside the data so that a
// restart finds the same database password, internal secret and admin account.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface LocalSecrets {
  databasePassword: string;
  internalSecret: string;
  admin: { email: string; password: string; generated: boolean };
}

const token = (bytes: number) => randomBytes(bytes).toString('base64url');

export async function loadOrCreateSecrets(dataDir: string, env: NodeJS.ProcessEnv): Promise<LocalSecrets> {
  const file = path.join(dataDir, 'secrets.json');
  let stored: Partial<LocalSecrets> = {};
  try {
    stored = JSON.parse(await readFile(file, 'utf8')) as Partial<LocalSecrets>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const configured = env.SOUK_ADMIN_EMAIL && env.SOUK_ADMIN_PASSWORD;
  const secrets: LocalSecrets = {
    databasePassword: stored.databasePassword ?? token(24),
    internalSecret: stored.internalSecret ?? token(48),
    admin: configured
      ? { email: env.SOUK_ADMIN_EMAIL!, password: env.SOUK_ADMIN_PASSWORD!, generated: false }
      : stored.admin?.generated
        ? stored.admin
        : { email: 'admin@souk.local', password: token(18), generated: true },
  };
  await mkdir(dataDir, { recursive: true });
  // Only generated credentials are written down; configured ones stay in the environment they came from.
  const persisted = { ...secrets, admin: secrets.admin.generated ? secrets.admin : stored.admin };
  await writeFile(file, `${JSON.stringify(persisted, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}
