// Users owns accounts, credentials and the keys that sign access tokens.
import { createService, NotifiedCache, type ConfigSource } from '@souk/chassis';
import Type from 'typebox';
import { Accounts } from './accounts.ts';
import { USERS_CHANGED_CHANNEL, UserRepository, type Account } from './data/user.repository.ts';
import { pruneSpentRefreshTokens } from './data/refresh-token.repository.ts';
import { startUsersGrpc } from './grpc/users.grpc.ts';
import { authRoutes } from './http/auth.routes.ts';
import { userRoutes } from './http/users.routes.ts';
import { createAccessTokenIssuer } from './security/access-tokens.ts';
import { loadSigningKey } from './security/signing-keys.ts';

export const settings = {
  grpc: Type.Object(
    {
      host: Type.String({ default: '127.0.0.1' }),
      port: Type.Integer({ minimum: 0, default: 50051 }),
      /** The host:port this instance registers, when others reach it by another address than it listens on. */
      advertiseUrl: Type.Optional(Type.String()),
    },
    { default: {}, description: 'Where the gRPC server listens; read once at start.' },
  ),
  tokens: Type.Object(
    {
      accessTtlSeconds: Type.Integer({
        minimum: 60,
        maximum: 3600,
        default: 900,
        description: 'Lifetime of an access token; live, for tokens issued from then on.',
      }),
      refreshTtlSeconds: Type.Integer({
        minimum: 3600,
        default: 30 * 24 * 3600,
        description: 'Lifetime of a refresh token; live, for tokens issued from then on.',
      }),
      keepSpentMs: Type.Integer({
        minimum: 0,
        default: 7 * 24 * 3_600_000,
        description: 'How long a refresh-token family stays after its last token died, then it is pruned.',
      }),
    },
    { default: {} },
  ),
  lockout: Type.Object(
    {
      maxFailures: Type.Integer({ minimum: 1, maximum: 10, default: 10 }),
      windowSeconds: Type.Integer({ minimum: 1, default: 300 }),
    },
    {
      default: {},
      description: 'Failed logins allowed per window before an account is locked; live, from the next login.',
    },
  ),
};

/** How many accounts each instance keeps in memory for GetUser. */
const ACCOUNTS_KEPT = 10_000;

export async function buildUsers(options: { env?: NodeJS.ProcessEnv; configSource?: ConfigSource } = {}) {
  const env = options.env ?? process.env;
  const service = await createService({
    name: 'users',
    description: 'Accounts, credentials and the keys that sign access tokens.',
    config: settings,
    migrations: new URL('./data/migrations/', import.meta.url),
    env,
    configSource: options.configSource,
  });
  const { config, db, log } = service;
  const clock = () => new Date();

  // Token lifetimes and the lockout are read at each use, so a change from the config center applies at once.
  const tokens = createAccessTokenIssuer(
    await loadSigningKey(db),
    () => config.current.tokens.accessTtlSeconds,
    clock,
  );
  const accounts = new Accounts({
    db,
    outbox: service.outbox,
    tokens,
    get refreshTtlSeconds() {
      return config.current.tokens.refreshTtlSeconds;
    },
    get lockout() {
      return config.current.lockout;
    },
    clock,
  });
  await bootstrapAdmin(accounts, env, config.current.profile, log);

  userRoutes(service.app, accounts, db);
  authRoutes(service.app, accounts, db);

  // Orders asks for the account at every order: answer from memory, forgetting an account as soon as its row
  // changes, whichever instance (or operator) changed it.
  const users = new UserRepository(db);
  const accountCache = new NotifiedCache<Account>({
    name: 'account-cache',
    pool: db,
    channel: USERS_CHANGED_CHANNEL,
    log,
    max: ACCOUNTS_KEPT,
    load: (ids) => users.findAccounts(ids),
  });
  service.addWorker(accountCache.worker());
  const grpc = await startUsersGrpc({
    ...config.current.grpc,
    findAccount: (id) => accountCache.get(id),
    identity: service.identity,
    log,
    ready: async () => (await service.health.readiness()).ready,
    onDrain: (listener) => service.health.onDrain(listener),
  });
  service.onClose(() => grpc.close());
  service.advertise({
    grpcUrl: config.current.grpc.advertiseUrl ?? `${config.current.grpc.host}:${grpc.port}`,
  });
  service.retain({
    name: 'spent-refresh-tokens',
    keepMs: () => config.current.tokens.keepSpentMs,
    prune: pruneSpentRefreshTokens,
  });
  return Object.assign(service, { grpcPort: grpc.port });
}

async function bootstrapAdmin(
  accounts: Accounts,
  env: NodeJS.ProcessEnv,
  profile: 'local' | 'distributed',
  log: Parameters<Accounts['ensureAdmin']>[1],
): Promise<void> {
  const email = env.SOUK_ADMIN_EMAIL;
  const password = env.SOUK_ADMIN_PASSWORD;
  if (email && password) return accounts.ensureAdmin({ email, password }, log);
  if (profile === 'distributed') {
    throw new Error('the distributed profile needs SOUK_ADMIN_EMAIL and SOUK_ADMIN_PASSWORD');
  }
  log.warn('no admin configured (SOUK_ADMIN_EMAIL / SOUK_ADMIN_PASSWORD); nobody can manage the catalog');
}
