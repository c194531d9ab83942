// Starts the whole shop as `npm start` does (same supervisor, same processes), on its own data folder and
// ports shifted by an offset so that it can run beside a shop someone already started.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deleteAmqpTopology } from '@souk/chassis';
import { skipWithoutRabbitMq, TEST_AMQP_URL as AMQP_URL } from '@souk/chassis/testing';
import { startShop, type Shop, type ShopOptions } from '@souk/supervisor';

export const PORT_OFFSET = 10_000;
export const ADMIN = { email: 'admin@souk.test', password: 'admin-password-for-tests' };

export interface RunningShop extends Shop {
  api(method: string, url: string, options?: ApiOptions): Promise<ApiResponse>;
  close(): Promise<void>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- a test reads whatever JSON came back
}

export type Transport = 'postgres' | 'amqp';

export interface ApiOptions {
  token?: string;
  /** JSON, or a string sent as it is. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** One request to a gateway: a bearer token, JSON in, JSON (or text) out. */
export async function callApi(
  baseUrl: string,
  method: string,
  url: string,
  options: ApiOptions = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] ??= 'application/json';
  const response = await fetch(`${baseUrl}${url}`, {
    method,
    headers,
    body:
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON; the raw text is the body.
  }
  return { status: response.status, headers: response.headers, body };
}

/** Why the shop cannot run on this transport here, for `describe(…, { skip })`; undefined when it can. */
export function skipReason(transport: Transport): Promise<string | undefined> {
  return transport === 'amqp' ? skipWithoutRabbitMq() : Promise.resolve(undefined);
}

/** Asserts an RFC 9457 problem with the status, and no stack trace in it. */
export function assertProblem(response: ApiResponse, status: number): void {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.match(response.headers.get('content-type') ?? '', /application\/problem\+json/);
  assert.equal(response.body.status, status);
  assert.equal(typeof response.body.title, 'string');
  assert.doesNotMatch(JSON.stringify(response.body), /\bat .*\.ts:\d+/, 'no stack trace');
}

/** Starts the shop on `transport`; `overrides.env` is added to the supervisor's environment. */
export async function startTestShop(
  transport: Transport,
  overrides: Partial<ShopOptions> = {},
): Promise<RunningShop> {
  const { env: extraEnv, ...rest } = overrides;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'souk-system-'));
  // A namespace of its own on the shared broker, removed afterwards.
  const namespace = `souk-test-${randomBytes(4).toString('hex')}`;
  const logs: string[] = [];
  const shop = await startShop({
    root: fileURLToPath(new URL('../../', import.meta.url)),
    dataDir,
    databasePort: 54339,
    portOffset: PORT_OFFSET,
    env: {
      ...process.env,
      SOUK_ADMIN_EMAIL: ADMIN.email,
      SOUK_ADMIN_PASSWORD: ADMIN.password,
      SOUK__LOG__LEVEL: 'warn',
      // The transport under test; on RabbitMQ, in a namespace of its own.
      SOUK__MESSAGING__TRANSPORT: transport,
      ...(transport === 'amqp' ? { SOUK__MESSAGING__NAMESPACE: namespace } : {}),
      ...extraEnv,
    },
    // A crashed runner's sagas are taken over after this lease; short, so the crash tests wait less. A lease
    // must outlast every step's timeout (renewals keep a slow saga's lease), so those are shortened with it.
    serviceEnv: {
      orders: {
        SOUK__SAGA__LEASE_MS: '3000',
        SOUK__SAGA__STEP_TIMEOUT_MS: '2000',
        SOUK__SAGA__CHARGE_TIMEOUT_MS: '2500',
      },
      // The suites register users from one IP within a minute, more than the default registration limit allows.
      gateway: { SOUK__RATE_LIMIT__REGISTER_MAX: '50' },
    },
    say: (line) => logs.push(line),
    onLogLine: (source, line) => {
      logs.push(`${source} ${line}`);
      if (process.env.SOUK_TEST_SHOW_LOGS) console.log(source, line);
    },
    ...rest,
  }).catch((error: unknown) => {
    console.error(logs.slice(-50).join('\n'));
    throw error;
  });

  return Object.assign(shop, {
    api: (method: string, url: string, options?: ApiOptions) =>
      callApi(shop.gatewayUrl, method, url, options),
    async close() {
      await shop.stop();
      await rm(dataDir, { recursive: true, force: true });
      if (transport === 'amqp') await deleteAmqpTopology(AMQP_URL, namespace, SUBSCRIBER_GROUPS);
    },
  });
}

/** Subscriber groups of the shop, whose queues the amqp transport declares. */
export const SUBSCRIBER_GROUPS = ['notifications'];
