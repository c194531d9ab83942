// The admin plugin: what every service answers an admin about itself, under /api/admin/services/<name>/ —
// its configuration in the config center (read, validated, diffed, applied, with history), its messaging (outbox
// lag, parked events, dead letters, replay) and the audit of the admin actions it performed.
import { StrictObject } from '@souk/contracts';
import type { TSchema } from 'typebox';
import Type from 'typebox';
import { listAdminActions, recordAdminAction } from '../admin/audit.ts';
import { adminsOnly, requireAdmin } from '../auth.ts';
import {
  ConfigConflictError,
  ConfigError,
  configProblems,
  deepMerge,
  diffLines,
  environmentOverrides,
  parseConfig,
  type ConfigSource,
  type LiveConfig,
} from '../config.ts';
import type { Pool } from '../db.ts';
import { ProblemError, badRequest, conflict } from '../errors.ts';
import { listParked, outboxStats, releaseParked, type Messaging } from '../messaging/index.ts';
import type { App } from './http.ts';

export interface AdminPluginOptions {
  name: string;
  app: App;
  config: Pick<LiveConfig<unknown>, 'current'>;
  schema: TSchema;
  source: ConfigSource;
  env: NodeJS.ProcessEnv;
  db: Pool | undefined;
  messaging: Messaging | undefined;
}

/** The path under which a service answers admins about itself; the gateway routes it to that service. */
export const adminPath = (service: string): string => `/api/admin/services/${service}`;

const Limit = StrictObject({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })) });
const ConfigChange = StrictObject({
  /** The whole YAML document of the service's own config (its file, or its etcd key). */
  document: Type.String({ maxLength: 256 * 1024 }),
  /** The version read with it; a write over a newer document is refused with 409. */
  version: Type.Optional(Type.String({ maxLength: 100 })),
});
const Ids = Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { minItems: 1, maxItems: 1000 }));

export function adminPlugin(options: AdminPluginOptions): void {
  const { app, name, config, source, db } = options;
  const base = adminPath(name);
  const guarded = { onRequest: adminsOnly };

  /** Who did what, in this service's database; without one, an action cannot be audited and is refused. */
  const audited = async (actor: string, action: string, target: string, detail: Record<string, unknown>) => {
    if (db === undefined) throw noAudit(name);
    await recordAdminAction(db, { actor, action, target, detail });
  };

  app.get(`${base}/config`, { ...guarded, schema: { hide: true } }, async () => {
    const document = await editable(source).readDocument();
    return {
      service: name,
      source: source.description,
      document: document.text,
      version: document.version,
      effective: redacted(config.current),
    };
  });

  app.put(
    `${base}/config`,
    {
      ...guarded,
      schema: {
        hide: true,
        querystring: StrictObject({ dryRun: Type.Optional(Type.Boolean({ default: false })) }),
        body: ConfigChange,
      },
    },
    async (request) => {
      const admin = requireAdmin(request);
      if (!request.query.dryRun && db === undefined) throw noAudit(name);
      const edit = editable(source);
      const current = await edit.readDocument();
      const version = request.body.version ?? current.version;
      if (version !== current.version) throw changedMeanwhile(name);
      let raw: Record<string, unknown>;
      try {
        raw = deepMerge(await edit.loadWith(request.body.document), environmentOverrides(options.env));
      } catch (error) {
        if (error instanceof ConfigError) throw badRequest('INVALID_CONFIG', error.message);
        throw error;
      }
      const problems = configProblems(options.schema, raw);
      if (problems.length > 0) {
        throw new ProblemError(400, 'INVALID_CONFIG', `${name} would refuse it: ${problems.join('; ')}`, {
          extensions: { errors: problems.map((message) => ({ field: message.split(' ')[0], message })) },
        });
      }
      const diff = diffLines(redacted(config.current), redacted(parseConfig(options.schema, raw)));
      if (request.query.dryRun) return { diff, applied: false };
      const entry = { at: new Date().toISOString(), actor: admin.sub, diff, document: request.body.document };
      try {
        await edit.writeDocument(request.body.document, version, entry);
      } catch (error) {
        if (error instanceof ConfigConflictError) throw changedMeanwhile(name);
        throw error;
      }
      await audited(admin.sub, 'config.apply', `config/${name}`, { diff });
      return { diff, applied: true };
    },
  );

  app.get(
    `${base}/config/history`,
    { ...guarded, schema: { hide: true, querystring: Limit } },
    async (request) => ({ items: await editable(source).history(request.query.limit ?? 50) }),
  );

  app.get(
    `${base}/messaging`,
    { ...guarded, schema: { hide: true, querystring: Limit } },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const { messaging } = options;
      return {
        service: name,
        transport: messaging?.transport.name ?? null,
        outbox: db === undefined ? null : await outboxStats(db),
        parked: db === undefined ? [] : await listParked(db, limit),
        deadLetters: await Promise.all(
          (messaging?.groups() ?? []).map(async (group) => ({
            group,
            items: await messaging!.transport.deadLetters(group, limit),
          })),
        ),
      };
    },
  );

  app.post(
    `${base}/messaging/dead-letters/replay`,
    {
      ...guarded,
      schema: { hide: true, body: StrictObject({ group: Type.String({ maxLength: 200 }), ids: Ids }) },
    },
    async (request) => {
      const admin = requireAdmin(request);
      const { group, ids } = request.body;
      const { messaging } = options;
      if (messaging === undefined || !messaging.groups().includes(group)) {
        throw new ProblemError(404, 'UNKNOWN_GROUP', `${name} consumes as no group '${group}'.`);
      }
      const replayed = await messaging.transport.replayDeadLetters(group, ids);
      await audited(admin.sub, 'messaging.replay', `dead-letters/${group}`, { ids: ids ?? 'all', replayed });
      return { replayed };
    },
  );

  app.post(
    `${base}/messaging/parked/release`,
    { ...guarded, schema: { hide: true, body: StrictObject({ ids: Ids }) } },
    async (request) => {
      const admin = requireAdmin(request);
      if (db === undefined) throw noAudit(name);
      const { ids } = request.body;
      const released = await releaseParked(db, ids);
      await audited(admin.sub, 'messaging.release', 'outbox/parked', { ids: ids ?? 'all', released });
      return { released };
    },
  );

  app.get(`${base}/audit`, { ...guarded, schema: { hide: true, querystring: Limit } }, async (request) => ({
    items: db === undefined ? [] : await listAdminActions(db, name, request.query.limit ?? 50),
  }));
}

type EditableSource = Required<Pick<ConfigSource, 'readDocument' | 'loadWith' | 'writeDocument' | 'history'>>;

function editable(source: ConfigSource): EditableSource {
  if (!source.readDocument || !source.loadWith || !source.writeDocument || !source.history) {
    throw conflict('CONFIG_NOT_EDITABLE', `The config source ${source.description} cannot be edited here.`);
  }
  return source as EditableSource;
}

const changedMeanwhile = (name: string) =>
  conflict('CONFIG_CHANGED', `The config of ${name} changed since it was read; read it again.`);

const noAudit = (name: string) =>
  conflict('NO_AUDIT', `${name} has no database to audit in, so it takes no admin action.`);

const SECRET_KEY = /secret|password|token/i;

/** The configuration as an admin may see it: secrets hidden, passwords in URLs masked. */
export function redacted(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((item) => redacted(item));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, child]) => [k, redacted(child, k)]));
  }
  if (typeof value === 'string' && SECRET_KEY.test(key)) return '(hidden)';
  if (typeof value === 'string') return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');
  return value;
}
