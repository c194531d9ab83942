// The supervisor's control endpoint, for the console's break panel in the local profile: loopback only, every
// call carrying the secret the supervisor gave the gateway. It stops or kills one service's process (which the
// supervisor then restarts, as after any crash) or drops every connection to the message bus.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import type { ServiceProcess } from './service-process.ts';
import { isServiceName, type ServiceName } from './topology.ts';

export const CONTROL_SECRET_HEADER = 'x-souk-control-secret';

export interface ControlEndpoint {
  url: string;
  secret: string;
  close(): Promise<void>;
}

export interface ControlOptions {
  processes: ReadonlyMap<ServiceName, ServiceProcess>;
  /** The bus database's URL: its connections are what "drop the broker's connections" ends. */
  busUrl: string;
  say: (line: string) => void;
}

export async function startControlEndpoint(options: ControlOptions): Promise<ControlEndpoint> {
  const secret = randomBytes(32).toString('base64url');
  const expected = Buffer.from(secret);
  const server = createServer((request, response) => {
    const given = Buffer.from(String(request.headers[CONTROL_SECRET_HEADER] ?? ''));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      answer(response, 401, { detail: 'The control secret is missing or wrong.' });
      return;
    }
    handle(request, options)
      .then(([status, body]) => answer(response, status, body))
      .catch((error: unknown) => answer(response, 500, { detail: (error as Error).message }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    secret,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // The gateway's client keeps connections alive; they would hold close() open.
        server.closeAllConnections();
      }),
  };
}

async function handle(request: IncomingMessage, options: ControlOptions): Promise<[number, unknown]> {
  if (request.method === 'GET' && request.url === '/instances') {
    return [
      200,
      {
        actions: ['stop', 'kill', 'drop-broker-connections'],
        instances: [...options.processes.values()].map((child) => ({
          service: child.name,
          pid: child.pid ?? null,
          running: child.pid !== undefined,
          starts: child.starts,
        })),
      },
    ];
  }
  if (request.method !== 'POST' || request.url !== '/break') return [404, { detail: 'No such control.' }];
  let body: { action?: string; service?: string };
  try {
    body = JSON.parse(await text(request)) as typeof body;
  } catch (error) {
    if (error instanceof BodyTooLarge)
      return [413, { detail: `The body is over ${MAX_BODY_CHARACTERS} characters.` }];
    return [400, { detail: 'The body is not JSON.' }];
  }
  if (body.action === 'drop-broker-connections') {
    const dropped = await dropBusConnections(options.busUrl);
    options.say(`✗ the console dropped ${dropped} connection(s) to the message bus`);
    return [202, { action: body.action, dropped }];
  }
  if (body.action !== 'stop' && body.action !== 'kill') return [400, { detail: `Unknown action.` }];
  const name = body.service ?? '';
  const child = isServiceName(name) ? options.processes.get(name) : undefined;
  if (child?.pid === undefined) return [404, { detail: `No running service '${name}'.` }];
  const pid = child.pid;
  options.say(`✗ the console asked to ${body.action} ${name} (pid ${pid})`);
  // Either way the supervisor restarts it, as it would after any exit: the learner watches the shop heal.
  child.signal(body.action === 'stop' ? 'SIGTERM' : 'SIGKILL');
  return [202, { action: body.action, service: name, pid }];
}

async function dropBusConnections(busUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: busUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ dropped: number }>(
      `SELECT count(pg_terminate_backend(pid))::int AS dropped
         FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
    );
    return rows[0]?.dropped ?? 0;
  } finally {
    await client.end();
  }
}

/** A control request's body is a few words of JSON; anything longer is refused (and read to its end, unkept). */
const MAX_BODY_CHARACTERS = 10_000;

class BodyTooLarge extends Error {}

function text(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data: string | undefined = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      if (data === undefined) return;
      data += chunk;
      if (data.length > MAX_BODY_CHARACTERS) data = undefined;
    });
    request.on('end', () => {
      if (data === undefined) reject(new BodyTooLarge());
      else resolve(data === '' ? '{}' : data);
    });
    request.on('error', reject);
  });
}

function answer(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
