// The ops console in a real browser (Debian's chromium driven by playwright-core): on the local profile as
// `npm start` runs it (fleet, resilience, sagas with timeline and trace link, messaging, a config change that the
// gateway then obeys, the audit, the break panel, a customer refused with 403), and on a fleet as
// `npm run start:fleet` runs it (both orders instances, one killed and gone). Screenshots go to docs/screenshots/.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { deleteAmqpTopology } from '@souk/chassis';
import { parseInstances, startFleet, type Fleet } from '@souk/supervisor/fleet';
import { ADMIN, callApi, startTestShop, type RunningShop } from '../system/shop.fixture.ts';

const CHROMIUM = process.env.SOUK_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-sync'];
const SCREENSHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const root = fileURLToPath(new URL('../../', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function openBrowser(): Promise<{ context: BrowserContext; page: Page; close(): Promise<void> }> {
  assert.ok(existsSync(CHROMIUM), `no browser at ${CHROMIUM}: install Debian's chromium (.ci/run does)`);
  const profile = await mkdtemp(path.join(tmpdir(), 'souk-console-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1200, height: 860 },
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(20_000);
  return {
    context,
    page,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

async function signIn(page: Page, base: string, email: string, password: string): Promise<void> {
  await page.goto(`${base}/console/#/sign-in`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

const screenshot = (page: Page, name: string) =>
  page.screenshot({ path: path.join(SCREENSHOTS, `console-${name}.png`), fullPage: true });

describe('the ops console on the local profile', { timeout: 300_000 }, () => {
  let shop: RunningShop;
  let browser: Awaited<ReturnType<typeof openBrowser>>;
  let page: Page;
  /** The console edits the config files: the test's own, not the repository's config/. */
  let configDir: string;
  const console_ = (hash: string) => `${shop.gatewayUrl}/console/#${hash}`;

  /** A new customer (through the API) and their token. */
  const customer = async () => {
    const email = `${randomUUID()}@souk.test`;
    const password = 'a-long-password-1';
    await shop.api('POST', '/api/users', { body: { email, password, name: 'Customer' } });
    const login = await shop.api('POST', '/api/auth/login', { body: { email, password } });
    return { email, password, token: login.body.accessToken as string };
  };

  before(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    configDir = await mkdtemp(path.join(tmpdir(), 'souk-console-config-'));
    shop = await startTestShop('postgres', {
      configDir,
      databasePort: 54389,
      portOffset: 13_000,
      serviceEnv: {
        gateway: { SOUK__RATE_LIMIT__REGISTER_MAX: '50', SOUK__ADMIN__RED_SAMPLE_MS: '1000' },
      },
    });
    browser = await openBrowser();
    page = browser.page;
  });

  after(async () => {
    await browser?.close();
    await shop?.close();
    if (configDir) await rm(configDir, { recursive: true, force: true });
  });

  it('when a customer opens the console, then the page shows 403 and the admin API answers 403', async () => {
    const someone = await customer();
    await signIn(page, shop.gatewayUrl, someone.email, someone.password);
    await page.getByRole('heading', { name: /Forbidden/ }).waitFor();
    assert.equal(await page.locator('.forbidden').textContent(), '403');
    await screenshot(page, 'forbidden');
    for (const url of ['/api/admin/fleet', '/api/admin/sagas', '/api/admin/services/orders/config']) {
      const response = await shop.api('GET', url, { token: someone.token });
      assert.equal(response.status, 403, url);
    }
    await page.getByRole('button', { name: 'Sign in as someone else' }).click();
  });

  it('when an admin opens the fleet, then every service is there and up', async () => {
    await signIn(page, shop.gatewayUrl, ADMIN.email, ADMIN.password);
    await page.getByRole('heading', { name: 'Fleet' }).waitFor();
    for (const service of ['gateway', 'users', 'orders', 'payments', 'inventory', 'notifications']) {
      await page.locator(`#fleet tr[data-service="${service}"] .health.up`).waitFor();
    }
    await screenshot(page, 'fleet');
  });

  it('when an order went through, then the sagas page lists it with its timeline and its trace link', async () => {
    const buyer = await customer();
    const products = await shop.api('GET', '/api/products?limit=1');
    const placed = await shop.api('POST', '/api/orders', {
      token: buyer.token,
      headers: { 'idempotency-key': randomUUID() },
      body: {
        items: [{ productId: products.body.items[0].id, quantity: 1 }],
        payment: { card: '4242424242424242' },
      },
    });
    assert.equal(placed.status, 202);
    const orderId = placed.body.id as string;
    await page.goto(console_('/sagas'));
    const row = page.locator(`#finished tr[data-saga="${orderId}"]`);
    await row.waitFor({ timeout: 30_000 });
    const trace = await row.locator('a.trace-link').getAttribute('href');
    assert.match(trace ?? '', /^http:\/\/localhost:16686\/trace\/[0-9a-f]{32}$/);
    await screenshot(page, 'sagas');
    await row.getByRole('link', { name: 'Timeline' }).click();
    await page.locator('figure.timeline svg').waitFor();
    assert.equal(await page.locator('a.trace-link').getAttribute('href'), trace);
    await screenshot(page, 'timeline');
  });

  it('when traffic passes, then the resilience page draws the breakers and a RED chart per route', async () => {
    for (let i = 0; i < 10; i++) await shop.api('GET', '/api/products?limit=2');
    await page.goto(console_('/resilience'));
    await page.locator('#breakers tr[data-upstream="inventory"] .health.closed').waitFor();
    await page.locator('section[data-route="/api/products"] svg polyline').first().waitFor();
    await screenshot(page, 'resilience');
  });

  it('when an admin opens messaging, then the outbox lag and the dead letters of a consumer show', async () => {
    await page.goto(console_('/messaging?service=notifications'));
    await page.locator('#outbox').waitFor();
    await page.locator('section[data-group="notifications"]').waitFor();
    await screenshot(page, 'messaging');
  });

  it('when an admin kills a service from the break panel, then the supervisor restarts it and the fleet is whole again', async () => {
    await page.goto(console_('/break'));
    const before = shop.processes.get('payments')!.starts;
    await page.getByRole('button', { name: 'Kill payments' }).click();
    await page.locator('#break-result .notice.ok').waitFor();
    await screenshot(page, 'break');
    const deadline = Date.now() + 60_000;
    while (shop.processes.get('payments')!.starts === before) {
      assert.ok(Date.now() < deadline, 'payments restarted');
      await sleep(100);
    }
    await page.goto(console_('/fleet'));
    await page.locator('#fleet tr[data-service="payments"] .health.up').waitFor({ timeout: 60_000 });
  });

  it("when an admin changes the gateway's rate limit in the console, then the gateway obeys it", async () => {
    await page.goto(console_('/config?service=gateway'));
    const editor = page.getByLabel('gateway config (YAML)');
    await editor.fill('rateLimit:\n  max: 0\n');
    await page.getByRole('button', { name: 'Preview diff' }).click();
    await page.locator('#config-result .notice.error').waitFor();
    assert.match((await page.locator('#config-result').textContent()) ?? '', /rateLimit\/max/);

    await editor.fill('rateLimit:\n  max: 3\n');
    await page.getByRole('button', { name: 'Preview diff' }).click();
    assert.match((await page.locator('#diff').textContent()) ?? '', /rateLimit\.max: 6000 → 3/);
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator('#config-result .notice.ok').waitFor();
    await screenshot(page, 'config');

    const fresh = await customer();
    const fourRequests = async () => {
      const answers: number[] = [];
      for (let i = 0; i < 4; i++)
        answers.push((await shop.api('GET', '/api/products', { token: fresh.token })).status);
      return answers;
    };
    // The gateway reads its config file again within a moment of the write.
    const deadline = Date.now() + 10_000;
    let statuses = await fourRequests();
    while (!statuses.includes(429) && Date.now() < deadline) {
      await sleep(200);
      statuses = await fourRequests();
    }
    assert.ok(
      statuses.includes(429),
      `the fourth request within the window is refused: ${statuses.join(' ')}`,
    );

    // Back to the default, so the shop serves the rest as before.
    await page.goto(console_('/config?service=gateway'));
    await page.getByLabel('gateway config (YAML)').fill('');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator('#config-result .notice.ok').waitFor();
  });

  it('when an admin opens the audit, then the config change and the kill are there with who and when', async () => {
    await page.goto(console_('/audit'));
    await page.locator('#audit').waitFor();
    const text = (await page.locator('#audit').textContent()) ?? '';
    assert.match(text, /config\.apply/);
    assert.match(text, /break\.kill/);
    await screenshot(page, 'audit');
  });
});

describe('the ops console on a fleet', { timeout: 600_000 }, () => {
  const ETCD_URL = 'http://127.0.0.1:23690';
  const GATEWAY_PORTS = [16180, 16181];
  const FLEET_ADMIN = { email: 'admin@souk.test', password: 'admin-password-for-console-tests' };
  const namespace = `souk_console_${randomBytes(3).toString('hex')}`;
  let fleet: Fleet;
  let dataDir: string;
  let browser: Awaited<ReturnType<typeof openBrowser>>;
  const logs: string[] = [];

  before(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    dataDir = await mkdtemp(path.join(tmpdir(), 'souk-console-fleet-'));
    fleet = await startFleet({
      root,
      dataDir,
      env: {
        ...process.env,
        SOUK_ETCD_URL: ETCD_URL,
        SOUK_ADMIN_EMAIL: FLEET_ADMIN.email,
        SOUK_ADMIN_PASSWORD: FLEET_ADMIN.password,
        SOUK__LOG__LEVEL: 'warn',
      },
      instances: parseInstances('orders=2,users=1,payments=1,inventory=1,notifications=1'),
      gatewayPorts: GATEWAY_PORTS,
      namespace,
      say: (line) => logs.push(line),
      onLogLine: (source, line) => logs.push(`${source} ${line}`),
    }).catch((error: unknown) => {
      console.error(logs.slice(-60).join('\n'));
      throw error;
    });
    browser = await openBrowser();
  });

  after(async () => {
    await browser?.close();
    await fleet?.stop();
    await deleteAmqpTopology(fleet.engines.amqp, namespace.replaceAll('_', '-'), ['notifications']).catch(
      () => {},
    );
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('when an orders instance is killed, then the fleet page shows both, then the dead one gone within the lease TTL', async () => {
    const { page } = browser;
    const base = fleet.gatewayUrls[0]!;
    await signIn(page, base, FLEET_ADMIN.email, FLEET_ADMIN.password);
    await page.getByRole('heading', { name: 'Fleet' }).waitFor();
    const ordersRows = page.locator('#fleet tr[data-service="orders"]');
    const deadline = Date.now() + 30_000;
    while ((await ordersRows.count()) !== 2) {
      assert.ok(Date.now() < deadline, 'both orders instances listed');
      await sleep(200);
    }
    await page.locator('#fleet tr[data-service="orders"] .health.up').nth(1).waitFor();
    await screenshot(page, 'fleet-two-orders');

    const victim = fleet.instances.find((instance) => instance.service === 'orders')!;
    const pid = victim.process.pid!;
    const row = page.locator(`#fleet tr[data-service="orders"][data-instance*="-${pid}-"]`);
    assert.equal(await row.count(), 1, 'the instance about to die is listed');
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    // The registry's lease TTL is 10 s; the page asks every second.
    await row.waitFor({ state: 'detached', timeout: 15_000 });
    const goneAfterMs = Date.now() - killedAt;
    assert.ok(goneAfterMs <= 12_000, `gone after ${goneAfterMs} ms`);
    await screenshot(page, 'fleet-instance-gone');

    await page.goto(`${base}/console/#/break`);
    await page.locator('#break-unavailable').waitFor();
    assert.match((await page.locator('#break-unavailable').textContent()) ?? '', /only in the local profile/);
    const api = await callApi(base, 'POST', '/api/admin/break', {
      token: (await callApi(base, 'POST', '/api/auth/login', { body: FLEET_ADMIN })).body.accessToken,
      body: { action: 'kill', service: 'orders' },
    });
    assert.equal(api.status, 409);
  });
});
