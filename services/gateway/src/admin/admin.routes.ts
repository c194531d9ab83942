// The admin API the gateway answers itself: the fleet, the resilience of its upstreams and its routes, the audit
// of every service gathered in one list, and the local profile's break panel (done by the supervisor).
import {
  IDENTITY_HEADER,
  ProblemError,
  adminPath,
  adminsOnly,
  conflict,
  listAdminActions,
  recordAdminAction,
  requireAdmin,
  withTimeout,
  type AuditEntry,
  type IdentitySigner,
  type Pool,
  type Registry,
  type UpstreamClient,
} from '@souk/chassis';
import { StrictObject } from '@souk/contracts';
import Type from 'typebox';
import type { App } from '@souk/chassis';
import { fleetSnapshot } from './fleet.ts';
import type { RedMetrics } from './red-metrics.ts';

export interface SupervisorControl {
  /** The supervisor's loopback control endpoint; only the local profile has one. */
  url: string;
  secret: string;
}

export interface AdminRoutesOptions {
  registry: Pick<Registry, 'services' | 'instances'>;
  upstreams: () => readonly UpstreamClient[];
  upstream: (service: string) => UpstreamClient;
  /** The services whose audit the gateway gathers, besides its own. */
  services: readonly string[];
  red: RedMetrics;
  /** The gateway's database, where its own admin actions are audited; none in tests that give it none. */
  db: () => Pool | undefined;
  supervisor: () => SupervisorControl | undefined;
  /** Signs the admin's identity again for the calls made on their behalf; each service checks the role itself. */
  signer: IdentitySigner;
}

export function adminRoutes(app: App, options: AdminRoutesOptions): void {
  const guarded = { onRequest: adminsOnly };

  app.get(
    '/api/admin/fleet',
    {
      ...guarded,
      schema: { tags: ['admin'], summary: 'Every instance the registry knows, with its health' },
    },
    async () => ({ items: await fleetSnapshot(options.registry, 1500) }),
  );

  app.get(
    '/api/admin/resilience',
    {
      ...guarded,
      schema: { tags: ['admin'], summary: "Each upstream's breaker and recent failures; RED per route" },
    },
    async () => ({
      upstreams: options.upstreams().map((client) => ({
        service: client.name,
        breaker: client.breakerState,
        recentFailures: client.recentFailures,
      })),
      intervalSeconds: options.red.intervalMs / 1000,
      routes: options.red.series(),
    }),
  );

  app.get(
    '/api/admin/audit',
    {
      ...guarded,
      schema: {
        tags: ['admin'],
        summary:
          "Every service's admin actions, newest first; `unavailable` names the services that did not answer",
        querystring: StrictObject({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
        }),
      },
    },
    async (request) => {
      const admin = requireAdmin(request);
      const headers = { [IDENTITY_HEADER]: options.signer.sign(admin) };
      const limit = request.query.limit ?? 100;
      const unavailable: string[] = [];
      const lists = await Promise.all(
        options.services.map(async (service) => {
          try {
            const { status, body } = await options.upstream(service).json<{ items: AuditEntry[] }>({
              method: 'GET',
              path: `${adminPath(service)}/audit?limit=${limit}`,
              headers,
            });
            if (status === 200) return body.items;
          } catch {
            // Named in `unavailable` below: one service away does not hide the others' audit.
          }
          unavailable.push(service);
          return [];
        }),
      );
      const db = options.db();
      const own = db === undefined ? [] : await listAdminActions(db, 'gateway', limit);
      const items = [...own, ...lists.flat()].sort((a, b) => b.at.localeCompare(a.at)).slice(0, limit);
      return { items, unavailable: unavailable.sort() };
    },
  );

  app.get(
    '/api/admin/break',
    {
      ...guarded,
      schema: { tags: ['admin'], summary: 'Whether the break panel is available, and what it can break' },
    },
    async () => {
      const control = options.supervisor();
      if (control === undefined) return { available: false, reason: UNAVAILABLE };
      const { status, body } = await callSupervisor(control, 'GET', '/instances');
      if (status !== 200) throw supervisorProblem(status, body);
      return { available: true, ...(body as object) };
    },
  );

  app.post(
    '/api/admin/break',
    {
      ...guarded,
      schema: {
        tags: ['admin'],
        summary: 'Local profile only: stop or kill an instance, or drop the broker connections',
        body: StrictObject({
          action: Type.Union([
            Type.Literal('stop'),
            Type.Literal('kill'),
            Type.Literal('drop-broker-connections'),
          ]),
          service: Type.Optional(Type.String({ maxLength: 100 })),
        }),
      },
    },
    async (request, reply) => {
      const admin = requireAdmin(request);
      const control = options.supervisor();
      if (control === undefined) throw conflict('BREAK_UNAVAILABLE', UNAVAILABLE);
      const db = options.db();
      if (db === undefined) throw conflict('NO_AUDIT', 'gateway has no database to audit in.');
      const { action, service } = request.body;
      if (action !== 'drop-broker-connections' && service === undefined) {
        throw new ProblemError(400, 'VALIDATION_FAILED', `${action} needs the service to ${action}.`, {
          extensions: { errors: [{ field: 'body.service', message: 'required for stop and kill' }] },
        });
      }
      // Audited before it is done: the action may take the gateway itself down.
      await recordAdminAction(db, {
        actor: admin.sub,
        action: `break.${action}`,
        target: service ?? 'broker',
      });
      const { status, body } = await callSupervisor(control, 'POST', '/break', request.body);
      if (status !== 202) throw supervisorProblem(status, body);
      return reply.code(202).send(body);
    },
  );
}

/** How long the supervisor gets to answer, its body included. */
const SUPERVISOR_TIMEOUT_MS = 20_000;

const UNAVAILABLE =
  'The break panel exists only in the local profile (npm start), where the supervisor runs every process; a fleet or a container has no supervisor to ask.';

async function callSupervisor(
  control: SupervisorControl,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  try {
    return await withTimeout(SUPERVISOR_TIMEOUT_MS, async (signal) => {
      const response = await fetch(new URL(path, control.url), {
        method,
        headers: { 'x-souk-control-secret': control.secret, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal,
      });
      return { status: response.status, body: await response.json().catch(() => ({})) };
    });
  } catch {
    throw new ProblemError(503, 'SUPERVISOR_UNAVAILABLE', 'The supervisor did not answer.');
  }
}

function supervisorProblem(status: number, body: unknown): ProblemError {
  const detail = (body as { detail?: string }).detail ?? `The supervisor answered ${status}.`;
  return new ProblemError(status >= 400 && status < 500 ? status : 502, 'BREAK_REFUSED', detail);
}
