// The storefront in a real browser (Debian's chromium driven by playwright-core) against the whole shop as
// `npm start` runs it: a customer signs up, buys, follows the saga and cancels; a declined card; a double
// click and a lost answer that still make one order; an expired session that keeps the cart; accessibility
// (axe-core) on every page; the first load's size. Each page's screenshot goes to docs/screenshots/.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page, type Request } from 'playwright-core';
import { ADMIN, startTestShop, type RunningShop } from '../system/shop.fixture.ts';

/** Debian's chromium (.ci/run installs it); SOUK_CHROMIUM names another build. */
const CHROMIUM = process.env.SOUK_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const AXE_SOURCE = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const APPROVED_CARD = '4242424242424242';
const DECLINED_CARD = '4000000000000002';
/** The saga runs in well under a second here; this is the patience for a loaded CI machine. */
const SAGA_PATIENCE_MS = 30_000;

/** A missing browser fails the run: a browser test that skips silently proves nothing. */
describe('storefront in a browser', () => {
  let shop: RunningShop;
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  /** Every URL the page asked for, to prove that nothing outside the shop loads. */
  const requested: string[] = [];
  /** Errors the page logged (a refused script, a CSP violation, an uncaught exception). */
  const pageErrors: string[] = [];

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `no browser at ${CHROMIUM}: install Debian's chromium (.ci/run does)`);
    shop = await startTestShop('postgres', { databasePort: 54379, portOffset: 15_000 });
    profile = await mkdtemp(path.join(tmpdir(), 'souk-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1100, height: 820 },
      locale: 'en-US',
      timezoneId: 'UTC',
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15_000);
    page.on('request', (request) => requested.push(request.url()));
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && !/Failed to load resource/.test(message.text()))
        pageErrors.push(message.text());
    });
    await mkdir(SCREENSHOTS, { recursive: true });
  });

  after(async () => {
    await context?.close();
    await shop?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  const url = (hash = '') => `${shop.gatewayUrl}/store/${hash}`;

  /** Opens a view of the store and waits until it is drawn (the page marks main with the hash it shows). */
  async function open(hash: string): Promise<void> {
    await page.goto(url(hash));
    await page.locator(`#main[data-view="${hash}"]:not([aria-busy])`).waitFor();
  }

  async function screenshot(name: string): Promise<void> {
    await page.screenshot({ path: path.join(SCREENSHOTS, `store-${name}.png`), fullPage: true });
  }

  /** axe-core in the page: no serious or critical violation. */
  async function assertAccessible(name: string): Promise<void> {
    if (!(await page.evaluate('typeof window.axe === "object"'))) await page.evaluate(AXE_SOURCE);
    const violations = await page.evaluate(async () => {
      interface Violation {
        id: string;
        impact?: string;
        help: string;
        nodes: Array<{ target: unknown }>;
      }
      const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: Violation[] }> } }).axe;
      const result = await axe.run();
      return result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => String(n.target)).join(' ')}`);
    });
    assert.deepEqual(violations, [], `${name}: accessibility violations`);
  }

  async function signUp(name: string): Promise<string> {
    const email = `${name.toLowerCase()}-${Date.now()}-${Math.random().toString(36).slice(2, 6)}@souk.test`;
    await open('#/sign-up');
    const main = page.locator('#main');
    await main.getByLabel('Name').fill(name);
    await main.getByLabel('Email').fill(email);
    await main.getByLabel('Password').fill('a-good-password');
    await main.getByRole('button', { name: 'Create account' }).click();
    await page.locator('.who', { hasText: `Signed in as ${name}` }).waitFor();
    return email;
  }

  async function addFirstProductToCart(): Promise<string> {
    await open('#/');
    const card = page.locator('.product-card').filter({ has: page.locator('button:not([disabled])') });
    const name = (await card.first().locator('h2').textContent())!;
    await card
      .first()
      .getByRole('button', { name: /^Add to cart/ })
      .click();
    return name;
  }

  async function chooseCard(number: string): Promise<void> {
    await open('#/cart');
    if (number === APPROVED_CARD) await page.getByLabel(/4242 4242 4242 4242/).check();
    else if (number === DECLINED_CARD) await page.getByLabel(/4000 0000 0000 0002/).check();
    else {
      await page.getByLabel('Another card number').check();
      await page.getByLabel('Card number').fill(number);
    }
  }

  async function waitForStatus(status: string): Promise<void> {
    await page
      .locator('.order-status .status')
      .filter({ hasText: status })
      .waitFor({ timeout: SAGA_PATIENCE_MS });
  }

  /** The order page's outcome line, in the words a customer reads. */
  async function waitForOutcome(words: string): Promise<void> {
    await page.locator('.order-outcome', { hasText: words }).waitFor();
  }

  /** The signed-in customer's orders, read with the token the page holds. */
  async function myOrders(): Promise<Array<{ id: string; status: string }>> {
    const session = JSON.parse((await page.evaluate(() => localStorage.getItem('souk.session')))!);
    const answer = await shop.api('GET', '/api/orders', { token: session.accessToken });
    assert.equal(answer.status, 200);
    return answer.body.items;
  }

  const isOrderPost = (request: Request) =>
    request.method() === 'POST' && new URL(request.url()).pathname === '/api/orders';

  it('when the shop is opened the first time, then its first load is small and all from the shop', async () => {
    let bytes = 0;
    let requests = 0;
    const count = async (request: Request) => {
      if (request.url().startsWith('data:')) return;
      requests++;
      const sizes = await request.sizes();
      bytes += sizes.responseBodySize + sizes.responseHeadersSize;
    };
    page.on('requestfinished', count);
    await page.goto(`${shop.gatewayUrl}/`, { waitUntil: 'networkidle' });
    page.off('requestfinished', count);
    assert.match(page.url(), /\/store\/$/);
    await page.locator('.product-card').first().waitFor();
    console.log(
      `storefront first load: ${requests} requests, ${bytes} bytes (${(bytes / 1024).toFixed(1)} KiB)`,
    );
    // A budget, so a change that bloats the first load is noticed; today it is far below.
    assert.ok(bytes < 150 * 1024, `first load ${bytes} bytes`);
    for (const seen of requested) assert.ok(seen.startsWith(shop.gatewayUrl), `loaded from outside: ${seen}`);
    await screenshot('catalog');
    await assertAccessible('catalog');
  });

  it('when a customer searches and pages the catalog, then matching products and the next page show', async () => {
    await open('#/');
    await page.getByLabel('Search products').fill('tagine');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('heading', { name: /Products matching “tagine”/ }).waitFor();
    const names = await page.locator('.product-card h2').allTextContents();
    assert.ok(names.length > 0 && names.every((n) => /tagine/i.test(n)), names.join(', '));

    await open('#/');
    const firstPage = await page.locator('.product-card h2').allTextContents();
    await page.getByRole('link', { name: 'Next page →' }).click();
    await page
      .getByRole('link', { name: '← Previous page' })
      .or(page.getByRole('link', { name: '← First page' }))
      .waitFor();
    const secondPage = await page.locator('.product-card h2').allTextContents();
    assert.ok(secondPage.length > 0);
    assert.equal(secondPage.filter((n) => firstPage.includes(n)).length, 0, 'pages do not overlap');
  });

  it('when a customer opens a product, then its price and stock show', async () => {
    await open('#/');
    await page.locator('.product-card h2 a').first().click();
    await page.locator('.product .price').waitFor();
    assert.match((await page.locator('.product .price').textContent())!, /\$\d/);
    assert.match((await page.locator('.product .stock').textContent())!, /in stock|left|Out of stock/);
    await screenshot('product');
    await assertAccessible('product');
  });

  it('when a customer signs up, buys with 4242…, then sees CONFIRMED and the timeline, and cancels', async () => {
    await open('#/sign-up');
    await screenshot('sign-up');
    await assertAccessible('sign-up');
    await signUp('Amina');
    await addFirstProductToCart();
    await chooseCard(APPROVED_CARD);
    await screenshot('cart');
    await assertAccessible('cart');
    await page.getByRole('button', { name: 'Place order' }).click();

    await page.waitForURL(/#\/orders\/[0-9a-f-]{36}$/);
    await waitForStatus('CONFIRMED');
    await waitForOutcome('Your order is confirmed');
    const chart = page.locator('figure.timeline svg.tl-chart');
    await chart.waitFor();
    const label = (await chart.getAttribute('aria-label'))!;
    for (const step of ['reserve-stock', 'charge-payment', 'commit-stock'])
      assert.match(label, new RegExp(step));
    assert.ok((await chart.locator('.tl-step rect').count()) >= 3);
    assert.ok((await chart.locator('.tl-event path').count()) >= 2, 'order.created and order.confirmed');
    await screenshot('order-confirmed');
    await assertAccessible('order');

    await page.getByRole('button', { name: 'Cancel order' }).click();
    await waitForStatus('CANCELLED');
    await waitForOutcome('You cancelled this order');
    // The cancellation's own saga (refund, restock) joins the picture.
    await page.locator('figure.timeline svg.tl-chart[aria-label*="refund-payment"]').waitFor();
    await screenshot('order-cancelled');

    const orders = await myOrders();
    assert.equal(orders.length, 1);
    assert.equal(orders[0]!.status, 'CANCELLED');

    await open('#/orders');
    await page.locator('table.orders .status', { hasText: 'CANCELLED' }).waitFor();
    await screenshot('orders');
    await assertAccessible('orders');

    await open('#/notifications');
    await page
      .locator('.feed li')
      .filter({ hasText: /confirmed/ })
      .first()
      .waitFor({ timeout: SAGA_PATIENCE_MS });
    await screenshot('notifications');
    await assertAccessible('notifications');
  });

  it('when the card is declined, then the order page says so in plain words', async () => {
    await page.evaluate(() => localStorage.clear());
    await signUp('Bilal');
    await addFirstProductToCart();
    await chooseCard(DECLINED_CARD);
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.waitForURL(/#\/orders\/[0-9a-f-]{36}$/);
    await waitForStatus('CANCELLED');
    await waitForOutcome('Your card was declined, so the order was cancelled. Nothing was charged.');
    await screenshot('order-declined');
  });

  it('when the cart asks for more than is in stock, then the order page says so in plain words', async () => {
    const admin = (await shop.api('POST', '/api/auth/login', { body: ADMIN })).body.accessToken;
    const created = await shop.api('POST', '/api/products', {
      token: admin,
      body: {
        sku: `LAST-ONE-${Date.now()}`,
        name: 'The Last Lantern',
        description: 'One left.',
        price: { amount: 1500, currency: 'USD' },
        stock: 1,
      },
    });
    assert.equal(created.status, 201);
    await page.evaluate(() => localStorage.clear());
    await signUp('Gita');
    await open(`#/products/${created.body.id}`);
    await page.locator('.product .stock', { hasText: 'Only 1 left' }).waitFor();
    await page.locator('#main').getByRole('button', { name: 'Add to cart' }).click();
    await open('#/cart');
    // The cart lets a customer ask for more than the catalog showed; the shop decides at placement.
    const quantity = page.getByLabel('Quantity of The Last Lantern');
    await quantity.fill('2');
    await quantity.press('Tab');
    await page.locator('#main[data-view="#/cart"]:not([aria-busy])').waitFor();
    assert.equal(await page.getByLabel('Quantity of The Last Lantern').inputValue(), '2');
    await page.getByLabel(/4242 4242 4242 4242/).check();
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.waitForURL(/#\/orders\/[0-9a-f-]{36}$/);
    await waitForStatus('CANCELLED');
    await waitForOutcome(
      'There was not enough stock for an item, so the order was cancelled. Nothing was charged.',
    );
  });

  it('when "Place order" is double-clicked, then one order is made', async () => {
    await page.evaluate(() => localStorage.clear());
    await signUp('Chen');
    await addFirstProductToCart();
    await chooseCard(APPROVED_CARD);
    const posts: Request[] = [];
    const onRequest = (request: Request) => void (isOrderPost(request) && posts.push(request));
    page.on('request', onRequest);
    await page.getByRole('button', { name: 'Place order' }).dblclick();
    await page.waitForURL(/#\/orders\/[0-9a-f-]{36}$/);
    await waitForStatus('CONFIRMED');
    page.off('request', onRequest);
    assert.equal(posts.length, 1, 'one POST /api/orders');
    assert.equal((await myOrders()).length, 1);
  });

  it('when the answer to "Place order" is lost and the customer presses again, then the same key makes one order', async () => {
    await page.evaluate(() => localStorage.clear());
    await signUp('Dara');
    await addFirstProductToCart();
    await chooseCard(APPROVED_CARD);
    const keys: string[] = [];
    let placedId: string | undefined;
    await page.route('**/api/orders', async (route) => {
      const request = route.request();
      if (!isOrderPost(request)) return route.continue();
      keys.push((await request.headerValue('idempotency-key'))!);
      if (keys.length > 1) return route.continue();
      // The order reaches the shop, but its answer never reaches the page.
      const answer = await route.fetch();
      placedId = (await answer.json()).id;
      return route.abort('connectionreset');
    });
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.getByText('The shop could not be reached').waitFor();
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.waitForURL(/#\/orders\/[0-9a-f-]{36}$/);
    await page.unroute('**/api/orders');
    assert.equal(keys.length, 2);
    assert.equal(keys[0], keys[1], 'the retry reuses the Idempotency-Key');
    assert.ok(page.url().endsWith(placedId!), 'the retry lands on the order the first attempt made');
    await waitForStatus('CONFIRMED');
    assert.equal((await myOrders()).length, 1);
  });

  it('when the access token is about to expire, then the next call renews it silently', async () => {
    await page.evaluate(() => localStorage.clear());
    await signUp('Eve');
    const before = await page.evaluate(() => JSON.parse(localStorage.getItem('souk.session')!));
    await page.evaluate(() => {
      const session = JSON.parse(localStorage.getItem('souk.session')!);
      localStorage.setItem('souk.session', JSON.stringify({ ...session, expiresAt: Date.now() - 1000 }));
    });
    await open('#/orders');
    await page.getByRole('heading', { name: 'My orders' }).waitFor();
    await page.getByText('You have no orders yet').waitFor();
    const renewed = await page.evaluate(() => JSON.parse(localStorage.getItem('souk.session')!));
    assert.notEqual(renewed.refreshToken, before.refreshToken, 'the refresh token rotated');
    assert.ok(renewed.expiresAt > Date.now());
    const spent = await shop.api('POST', '/api/auth/refresh', {
      body: { refreshToken: before.refreshToken },
    });
    assert.equal(spent.status, 401, 'the old refresh token no longer works');
  });

  it('when the session cannot be renewed, then the page asks to sign in again and keeps the cart', async () => {
    await page.evaluate(() => localStorage.clear());
    const email = await signUp('Farah');
    const product = await addFirstProductToCart();
    await page.evaluate(() => {
      const session = JSON.parse(localStorage.getItem('souk.session')!);
      localStorage.setItem(
        'souk.session',
        JSON.stringify({ ...session, refreshToken: 'revoked', expiresAt: Date.now() - 1000 }),
      );
    });
    await open('#/orders');
    const dialog = page.getByRole('dialog', { name: 'Please sign in again' });
    await dialog.waitFor();
    assert.equal(await dialog.getByLabel('Email').inputValue(), email);
    await screenshot('sign-in-again');
    await assertAccessible('sign-in-again');
    await dialog.getByLabel('Password').fill('a-good-password');
    await dialog.getByRole('button', { name: 'Sign in' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('heading', { name: 'My orders' }).waitFor();
    await open('#/cart');
    await page.getByRole('row', { name: new RegExp(product) }).waitFor();
    assert.match((await page.getByRole('navigation', { name: 'Main' }).textContent())!, /Cart \(1\)/);
  });

  it('when the catalog is used from the keyboard alone, then the skip link and "Add to cart" work', async () => {
    await page.evaluate(() => localStorage.clear());
    await page.goto('about:blank');
    await open('#/');
    await page.locator('.product-card').first().waitFor();
    // The first Tab reaches the skip link, which moves focus into the page.
    await page.keyboard.press('Tab');
    assert.equal(await page.locator(':focus').textContent(), 'Skip to content');
    await page.keyboard.press('Enter');
    // From the search field, Tab reaches the first product's "Add to cart".
    await page.getByLabel('Search products').focus();
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press('Tab');
      const focused = (await page.locator(':focus').textContent()) ?? '';
      if (focused.startsWith('Add to cart')) break;
    }
    await page.keyboard.press('Enter');
    assert.match((await page.getByRole('navigation', { name: 'Main' }).textContent())!, /Cart \(1\)/);
  });

  it('when the pages were used, then no script error and no refused resource was logged', () => {
    assert.deepEqual(pageErrors, []);
    for (const seen of requested)
      assert.ok(seen.startsWith(shop.gatewayUrl) || seen.startsWith('data:'), seen);
  });
});
