// The admin API through the gateway, against the real users, orders, inventory and payments services in
// process on throwaway databases: who may call it, the fleet, resilience, sagas (resume), config and audit.
/* eslint-disable @typescript-eslint/no-explicit-any -- answers are read as loose JSON; the assertions check them */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { YamlFileConfigSource } from '@souk/chassis';
import { createTestDatabase, freePort, testEnvironment, type TestDatabase } from '@souk/chassis/testing';
import { TEST_CARDS } from '@souk/contracts';
import { buildGateway } from '@souk/gateway';
import { buildInventory } from '@souk/inventory';
import { buildOrders } from '@souk/orders';
import { buildPayments } from '@souk/payments';
import { buildUsers } from '@souk/users';
import { CUSTOMER_PASSWORD, createProduct, placeOrderAs, registerCustomer } from './shop-data.ts';

type Built<T extends (...args: never[]) => unknown> = Awaited<ReturnType<T>>;

const ADMIN = { email: 'ops@example.com', password: 'an-admin-password-1' };

describe('the admin API through the gateway', () => {
  const databases: TestDatabase[] = [];
  let folder: string;
  let users: Built<typeof buildUsers>;
  let inventory: Built<typeof buildInventory>;
  let payments: Built<typeof buildPayments>;
  let orders: Built<typeof buildOrders>;
  /** A second orders instance on the same database whose saga runner has stopped: what a hung runner leaves. */
  let stalled: Built<typeof buildOrders>;
  let gateway: Built<typeof buildGateway>;
  let base: string;
  let adminToken: string;
  let customerToken: string;
  let customerId: string;

  const database = async (label: string) => {
    const created = await createTestDatabase(label);
    databases.push(created);
    return created.url;
  };

  const call = async (method: string, url: string, token?: string, body?: unknown) => {
    const response = await fetch(`${base}${url}`, {
      method,
      headers: {
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      type: response.headers.get('content-type') ?? '',
      body: text === '' ? undefined : JSON.parse(text),
    };
  };

  const login = async (email: string, password: string) => {
    const response = await call('POST', '/api/auth/login', undefined, { email, password });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body.accessToken as string;
  };

  const placeOrder = async (productId: string) => {
    const response = await fetch(`${base}/api/orders`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${customerToken}`,
        'content-type': 'application/json',
        'idempotency-key': randomUUID(),
      },
      body: JSON.stringify({ items: [{ productId, quantity: 1 }], payment: { card: TEST_CARDS.approves } }),
    });
    assert.equal(response.status, 202);
    return ((await response.json()) as { id: string }).id;
  };

  const orderStatus = async (id: string) =>
    (await call('GET', `/api/orders/${id}`, customerToken)).body.status;

  const eventually = async (condition: () => Promise<boolean>, what: string, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  before(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'souk-admin-api-'));
    users = await buildUsers({
      env: {
        ...testEnvironment(await database('admin_users')),
        SOUK__GRPC__PORT: '0',
        SOUK_ADMIN_EMAIL: ADMIN.email,
        SOUK_ADMIN_PASSWORD: ADMIN.password,
      },
    });
    inventory = await buildInventory({ env: testEnvironment(await database('admin_inventory')) });
    payments = await buildPayments({ env: testEnvironment(await database('admin_payments')) });
    const [usersUrl, inventoryUrl, paymentsUrl] = [
      await users.start(),
      await inventory.start(),
      await payments.start(),
    ];
    const ordersEnv = {
      ...testEnvironment(await database('admin_orders')),
      SOUK__REGISTRY: JSON.stringify({ inventory: inventoryUrl, payments: paymentsUrl }),
      SOUK__USERS__GRPC_URL: `127.0.0.1:${users.grpcPort}`,
      SOUK__SAGA__DEADLINE_MS: '1000',
      // Sagas nobody drives are not looked for again during the test: only a resume drives them.
      SOUK__SAGA__SCAN_INTERVAL_MS: '600000',
    };
    orders = await buildOrders({ env: ordersEnv });
    const ordersUrl = await orders.start();
    stalled = await buildOrders({ env: ordersEnv });
    await stalled.sagas.stop();

    const gatewayPort = await freePort();
    base = `http://127.0.0.1:${gatewayPort}`;
    const gatewayConfig = path.join(folder, 'gateway.yaml');
    await writeFile(gatewayConfig, 'rateLimit:\n  max: 6000\n');
    gateway = await buildGateway({
      configSource: new YamlFileConfigSource(gatewayConfig),
      env: {
        ...testEnvironment(await database('admin_gateway')),
        SOUK__HTTP__PORT: String(gatewayPort),
        SOUK__ADMIN__RED_SAMPLE_MS: '200',
        SOUK__REGISTRY: JSON.stringify({
          gateway: base,
          users: usersUrl,
          orders: ordersUrl,
          inventory: inventoryUrl,
          payments: paymentsUrl,
        }),
      },
    });
    await gateway.start();

    adminToken = await login(ADMIN.email, ADMIN.password);
    const email = `${randomUUID()}@example.com`;
    customerId = await registerCustomer(users, email);
    customerToken = await login(email, CUSTOMER_PASSWORD);
  });

  after(async () => {
    await gateway?.stop();
    await stalled?.stop();
    await orders?.stop();
    await payments?.stop();
    await inventory?.stop();
    await users?.stop();
    await Promise.all(databases.map((db) => db.drop()));
    await rm(folder, { recursive: true, force: true });
  });

  it('when a customer calls any admin endpoint, then 403 problem+json; without a token, 401', async () => {
    const endpoints: Array<[string, string, unknown?]> = [
      ['GET', '/api/admin/fleet'],
      ['GET', '/api/admin/resilience'],
      ['GET', '/api/admin/audit'],
      ['GET', '/api/admin/break'],
      ['POST', '/api/admin/break', { action: 'kill', service: 'orders' }],
      ['GET', '/api/admin/sagas'],
      ['POST', `/api/admin/sagas/${randomUUID()}/resume`],
      ['GET', '/api/admin/services/gateway/config'],
      ['PUT', '/api/admin/services/gateway/config', { document: 'log: { level: debug }' }],
      ['GET', '/api/admin/services/orders/config'],
      ['PUT', '/api/admin/services/orders/config', { document: 'log: { level: debug }' }],
      ['GET', '/api/admin/services/payments/messaging'],
      ['GET', '/api/admin/services/users/audit'],
    ];
    for (const [method, url, body] of endpoints) {
      const customer = await call(method, url, customerToken, body);
      assert.equal(customer.status, 403, `${method} ${url} as a customer`);
      assert.match(customer.type, /application\/problem\+json/, `${method} ${url}`);
      assert.equal(
        (await call(method, url, undefined, body)).status,
        401,
        `${method} ${url} without a token`,
      );
    }
  });

  it('when an admin opens the fleet, then every registered instance with its health, version and uptime', async () => {
    const fleet = await call('GET', '/api/admin/fleet', adminToken);
    assert.equal(fleet.status, 200);
    const items = fleet.body.items as Array<Record<string, any>>;
    assert.deepEqual(
      items.map((item) => item.service),
      ['gateway', 'inventory', 'orders', 'payments', 'users'],
    );
    for (const item of items) {
      assert.equal(item.health, 'up', `${item.service}: ${JSON.stringify(item.checks)}`);
      assert.equal(typeof item.version, 'string');
      assert.equal(typeof item.uptimeSeconds, 'number');
      assert.match(item.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    }
  });

  it('when an order went through, then the finished saga links its order timeline and its trace', async () => {
    const productId = await createProduct(inventory, 10);
    const orderId = await placeOrder(productId);
    await eventually(async () => (await orderStatus(orderId)) === 'CONFIRMED', 'confirmed');

    const sagas = await call('GET', '/api/admin/sagas', adminToken);
    assert.equal(sagas.status, 200);
    const saga = (sagas.body.finished as Array<Record<string, any>>).find((item) => item.id === orderId);
    assert.ok(saga, 'the saga is listed as finished');
    assert.equal(saga.status, 'COMPLETED');
    assert.equal(saga.orderId, orderId);
    assert.equal(saga.timeline, `/api/orders/${orderId}/timeline`);
    assert.match(saga.traceId, /^[0-9a-f]{32}$/);
    assert.equal(saga.traceUrl, `http://localhost:16686/trace/${saga.traceId}`);
    const timeline = await call('GET', saga.timeline, adminToken);
    assert.equal(timeline.status, 200);
    assert.ok(timeline.body.items.length > 0);
  });

  it('when a saga is stuck past the deadline, then it is listed as stuck and a resume drives it to the end, audited', async () => {
    const productId = await createProduct(inventory, 10);
    const placed = await placeOrderAs(stalled, customerId, productId);
    assert.equal(placed.statusCode, 202, placed.body);
    const orderId = placed.json<{ id: string }>().id;
    const stuck = async () =>
      ((await call('GET', '/api/admin/sagas', adminToken)).body.stuck as Array<{ id: string }>).some(
        (saga) => saga.id === orderId,
      );
    await eventually(stuck, 'listed as stuck past the 1 s deadline');
    assert.equal(await orderStatus(orderId), 'PENDING');

    const resumed = await call('POST', `/api/admin/sagas/${orderId}/resume`, adminToken);
    assert.equal(resumed.status, 202, JSON.stringify(resumed.body));
    assert.deepEqual(resumed.body, { id: orderId, status: 'RUNNING' });
    await eventually(async () => (await orderStatus(orderId)) === 'CONFIRMED', 'confirmed after the resume');

    const again = await call('POST', `/api/admin/sagas/${orderId}/resume`, adminToken);
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'SAGA_FINISHED');
    assert.equal((await call('POST', `/api/admin/sagas/${randomUUID()}/resume`, adminToken)).status, 404);
    assert.equal((await call('POST', '/api/admin/sagas/not-a-saga/resume', adminToken)).status, 404);

    const audit = await call('GET', '/api/admin/audit', adminToken);
    assert.equal(audit.status, 200);
    const entry = (audit.body.items as Array<Record<string, any>>).find(
      (item) => item.action === 'saga.resume' && item.target === orderId,
    );
    assert.ok(entry, 'the resume is audited');
    assert.equal(entry.service, 'orders');
    assert.match(entry.actor, /^[0-9a-f-]{36}$/);
    assert.ok(Date.now() - Date.parse(entry.at) < 60_000);
  });

  it('when traffic passed, then resilience shows each upstream breaker and RED points per route', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await call('GET', '/api/products')).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const resilience = await call('GET', '/api/admin/resilience', adminToken);
    assert.equal(resilience.status, 200);
    const inventoryUpstream = (resilience.body.upstreams as Array<Record<string, any>>).find(
      (upstream) => upstream.service === 'inventory',
    );
    assert.deepEqual(inventoryUpstream, { service: 'inventory', breaker: 'closed', recentFailures: [] });
    assert.equal(resilience.body.intervalSeconds, 0.2);
    const products = (resilience.body.routes as Array<{ route: string; points: any[] }>).find(
      (route) => route.route === '/api/products',
    );
    assert.ok(products, 'the products route has a series');
    const served = products.points.filter((point) => point.rate > 0);
    assert.ok(served.length > 0, 'a point counts the requests');
    assert.ok(served.every((point) => point.errors === 0 && point.p50Ms > 0 && point.p99Ms >= point.p50Ms));
  });

  it('when the break panel is asked for outside the local profile, then it says so: unavailable, 409 to act', async () => {
    const state = await call('GET', '/api/admin/break', adminToken);
    assert.equal(state.status, 200);
    assert.equal(state.body.available, false);
    assert.match(state.body.reason, /local profile/);
    const refused = await call('POST', '/api/admin/break', adminToken, { action: 'kill', service: 'orders' });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.code, 'BREAK_UNAVAILABLE');
    const invalid = await call('POST', '/api/admin/break', adminToken, { action: 'explode' });
    assert.equal(invalid.status, 400);
  });

  it('when an admin changes a service config through the gateway, then invalid ones get 400 and a valid one its diff', async () => {
    const current = await call('GET', '/api/admin/services/orders/config', adminToken);
    assert.equal(current.status, 200);
    assert.equal(current.body.effective.internal.secret, '(hidden)');
    const invalid = await call('PUT', '/api/admin/services/orders/config?dryRun=true', adminToken, {
      document: 'saga:\n  leaseMs: 2000\n  stepTimeoutMs: 5000\n',
    });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.code, 'INVALID_CONFIG');
    assert.match(invalid.body.detail, /leaseMs must be longer/);
    const dryRun = await call('PUT', '/api/admin/services/orders/config?dryRun=true', adminToken, {
      document: 'traces:\n  uiUrl: http://jaeger.example:16686/trace/{traceId}\n',
    });
    assert.equal(dryRun.status, 200, JSON.stringify(dryRun.body));
    assert.deepEqual(dryRun.body, {
      diff: [
        'traces.uiUrl: "http://localhost:16686/trace/{traceId}" → "http://jaeger.example:16686/trace/{traceId}"',
      ],
      applied: false,
    });
  });

  it("when an admin lowers the gateway's rate limit in its config, then the gateway limits by it, and the change is audited", async () => {
    const preview = await call('PUT', '/api/admin/services/gateway/config?dryRun=true', adminToken, {
      document: 'rateLimit:\n  max: 3\n',
    });
    assert.deepEqual(preview.body, { diff: ['rateLimit.max: 6000 → 3'], applied: false });
    const applied = await call('PUT', '/api/admin/services/gateway/config', adminToken, {
      document: 'rateLimit:\n  max: 3\n',
    });
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    await eventually(async () => gateway.config.current.rateLimit.max === 3, 'the gateway reloaded');
    // A customer who has made no request in this window yet.
    const email = `${randomUUID()}@example.com`;
    await call('POST', '/api/users', undefined, { email, password: 'a-long-password-1', name: 'Another' });
    const fresh = await login(email, 'a-long-password-1');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await call('GET', '/api/products', fresh)).status);
    assert.deepEqual(statuses, [200, 200, 200, 429]);

    const audit = await call('GET', '/api/admin/audit', adminToken);
    const entry = (audit.body.items as Array<Record<string, any>>).find(
      (item) => item.service === 'gateway' && item.action === 'config.apply',
    );
    assert.deepEqual(entry?.detail, { diff: ['rateLimit.max: 6000 → 3'] });
    const history = await call('GET', '/api/admin/services/gateway/config/history', adminToken);
    assert.equal(history.body.items[0].document, 'rateLimit:\n  max: 3\n');
  });
});
