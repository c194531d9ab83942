import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions } from 'fastify';
import { DEFAULT_WEB_ROOT } from './gateway.config.ts';
import { FakeUpstream, startGateway, type TestGateway } from './test-fixtures/fake-upstreams.ts';

describe('gateway web pages', () => {
  let root: string;
  let inventory: FakeUpstream;
  let test: TestGateway;

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'souk-web-'));
    await mkdir(path.join(root, 'store'));
    await mkdir(path.join(root, 'shared'));
    await mkdir(path.join(root, '.git'));
    await writeFile(path.join(root, 'store', 'index.html'), '<!doctype html><title>shop</title>');
    await writeFile(path.join(root, 'store', 'app.js'), 'export const shop = 1;\n');
    await writeFile(path.join(root, 'store', 'styles.css'), 'body { margin: 0 }\n');
    await writeFile(path.join(root, 'store', '.env'), 'SECRET=1\n');
    await writeFile(path.join(root, 'shared', 'icon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    await writeFile(path.join(root, '.git', 'config'), '[core]\n');
    await writeFile(path.join(root, 'package.json'), '{}');
    inventory = await FakeUpstream.start();
    test = await startGateway({ inventory: inventory.url }, { web: { root } });
  });

  after(async () => {
    await test.close();
    await inventory.close();
    await rm(root, { recursive: true, force: true });
  });

  const inject = (options: InjectOptions) => test.gateway.app.inject(options);

  it('when / is opened, then it leads to the storefront', async () => {
    const home = await inject({ method: 'GET', url: '/' });
    assert.equal(home.statusCode, 302);
    assert.equal(home.headers.location, '/store/');
    const bare = await inject({ method: 'GET', url: '/store' });
    assert.equal(bare.statusCode, 301);
    assert.equal(bare.headers.location, '/store/');
  });

  it('when a page folder is opened, then its index.html comes with the page headers', async () => {
    const page = await inject({ method: 'GET', url: '/store/' });
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-type'] as string, /^text\/html; charset=utf-8/);
    assert.equal(page.body, '<!doctype html><title>shop</title>');
    assert.equal(page.headers['cache-control'], 'no-cache');
    assert.match(page.headers['content-security-policy'] as string, /default-src 'self'/);
    assert.match(page.headers['content-security-policy'] as string, /frame-ancestors 'none'/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.ok(page.headers.etag, 'an ETag to revalidate with');
  });

  it('when files are fetched, then each has its own content type', async () => {
    const types: Record<string, RegExp> = {
      '/store/app.js': /^text\/javascript; charset=utf-8$/,
      '/store/styles.css': /^text\/css; charset=utf-8$/,
      '/shared/icon.svg': /^image\/svg\+xml/,
      '/store/index.html': /^text\/html; charset=utf-8$/,
    };
    for (const [url, type] of Object.entries(types)) {
      const file = await inject({ method: 'GET', url });
      assert.equal(file.statusCode, 200, url);
      assert.match(file.headers['content-type'] as string, type, url);
    }
    const head = await inject({ method: 'HEAD', url: '/store/app.js' });
    assert.equal(head.statusCode, 200);
    assert.equal(head.body, '');
  });

  it('when a file is fetched again with its ETag, then the answer is a 304 without a body', async () => {
    const first = await inject({ method: 'GET', url: '/store/app.js' });
    const again = await inject({
      method: 'GET',
      url: '/store/app.js',
      headers: { 'if-none-match': first.headers.etag as string },
    });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');
  });

  it('when a page path does not exist, then a 404 page says so and links to the shop', async () => {
    const missing = await inject({ method: 'GET', url: '/store/nowhere.html?x=<b>' });
    assert.equal(missing.statusCode, 404);
    assert.match(missing.headers['content-type'] as string, /^text\/html/);
    assert.match(missing.body, /Page not found/);
    assert.match(missing.body, /\/store\/nowhere\.html/);
    assert.doesNotMatch(missing.body, /<b>/);
    assert.match(missing.body, /href="\/store\/"/);
  });

  it('when a path reaches outside the page folders or at a dotfile, then nothing is served', async () => {
    for (const url of [
      '/store/.env',
      '/.git/config',
      '/package.json',
      '/store/../package.json',
      '/store/%2e%2e/package.json',
      '/store/..%2fpackage.json',
      '/shared/%2e%2e/%2e%2e/package.json',
    ]) {
      const response = await inject({ method: 'GET', url });
      assert.ok([400, 403, 404].includes(response.statusCode), `${url}: ${response.statusCode}`);
      assert.doesNotMatch(response.body, /SECRET|\[core\]/, url);
      assert.notEqual(response.body, '{}', url);
    }
  });

  it('when /api is called, then it still goes to the services, and an unknown path is still a problem', async () => {
    const products = await inject({ method: 'GET', url: '/api/products' });
    assert.equal(products.statusCode, 200);
    assert.equal(products.headers['x-upstream'], 'echo');
    const unknown = await inject({ method: 'GET', url: '/nowhere' });
    assert.equal(unknown.statusCode, 404);
    assert.match(unknown.headers['content-type'] as string, /application\/problem\+json/);
    assert.equal(unknown.json().code, 'ROUTE_NOT_FOUND');
  });

  it('when no web root is configured, then the default is the repository web folder with the storefront', () => {
    assert.ok(existsSync(path.join(DEFAULT_WEB_ROOT, 'store', 'index.html')));
    assert.ok(existsSync(path.join(DEFAULT_WEB_ROOT, 'shared', 'api.js')));
  });
});

describe('gateway without a web folder', () => {
  it('when the web root does not exist, then the API runs and / is a 404 problem', async () => {
    const test = await startGateway({}, { web: { root: path.join(tmpdir(), 'souk-no-such-web-folder') } });
    try {
      const home = await test.gateway.app.inject({ method: 'GET', url: '/' });
      assert.equal(home.statusCode, 404);
      assert.equal(home.json().code, 'ROUTE_NOT_FOUND');
    } finally {
      await test.close();
    }
  });
});
