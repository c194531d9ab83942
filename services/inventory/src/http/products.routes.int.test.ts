// The public products contract end to end on real PostgreSQL: who may do what, validation, paging, search.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Product } from '@souk/contracts';
import type { InjectOptions } from 'fastify';
import { startInventory, type InventoryFixture } from '../testing/inventory.fixture.ts';

describe('products API', () => {
  let inventory: InventoryFixture;
  const inject = (options: InjectOptions) => inventory.service.app.inject(options);

  before(async () => {
    inventory = await startInventory('products');
  });

  after(async () => {
    await inventory.close();
  });

  describe('creating', () => {
    const body = () => ({
      sku: `TEA-${randomUUID().slice(0, 8)}`,
      name: 'Gunpowder Green Tea',
      description: 'Rolled leaves for mint tea.',
      price: { amount: 1299, currency: 'USD' },
      stock: 40,
    });

    it('when an admin adds a product, then 201 with the product, which anyone can then read', async () => {
      const payload = body();
      const created = await inject({
        method: 'POST',
        url: '/api/products',
        headers: inventory.as.admin,
        payload,
      });
      assert.equal(created.statusCode, 201);
      const product = created.json<Product>();
      assert.match(product.id, /^[0-9a-f-]{36}$/);
      assert.deepEqual(product, {
        id: product.id,
        sku: payload.sku,
        name: payload.name,
        description: payload.description,
        price: payload.price,
        stock: { available: 40 },
      });
      const read = await inject({ url: `/api/products/${product.id}` });
      assert.equal(read.statusCode, 200);
      assert.deepEqual(read.json(), product);
    });

    it('when no identity is presented, then 401', async () => {
      const response = await inject({ method: 'POST', url: '/api/products', payload: body() });
      assert.equal(response.statusCode, 401);
      assert.match(response.headers['content-type'] as string, /application\/problem\+json/);
    });

    it('when a customer tries, then 403', async () => {
      const response = await inject({
        method: 'POST',
        url: '/api/products',
        headers: inventory.as.customer,
        payload: body(),
      });
      assert.equal(response.statusCode, 403);
    });

    it('when the body has an unknown field, then 400 naming it', async () => {
      const response = await inject({
        method: 'POST',
        url: '/api/products',
        headers: inventory.as.admin,
        payload: { ...body(), reserved: 5 },
      });
      assert.equal(response.statusCode, 400);
      assert.equal(response.json().code, 'VALIDATION_FAILED');
      assert.match(response.json().detail, /unknown field 'reserved'/);
    });

    it('when the price or stock is invalid, then 400', async () => {
      for (const payload of [
        { ...body(), price: { amount: -1, currency: 'USD' } },
        { ...body(), price: { amount: 10.5, currency: 'USD' } },
        { ...body(), price: { amount: 100, currency: 'usd' } },
        { ...body(), stock: -1 },
        { ...body(), sku: 'has spaces' },
        { ...body(), name: '   ' },
      ]) {
        const response = await inject({
          method: 'POST',
          url: '/api/products',
          headers: inventory.as.admin,
          payload,
        });
        assert.equal(response.statusCode, 400, JSON.stringify(payload));
      }
    });

    it('when the SKU is taken in another case, then 409 SKU_TAKEN', async () => {
      const payload = body();
      await inventory.createProduct({ sku: payload.sku });
      const response = await inject({
        method: 'POST',
        url: '/api/products',
        headers: inventory.as.admin,
        payload: { ...payload, sku: payload.sku.toLowerCase() },
      });
      assert.equal(response.statusCode, 409);
      assert.equal(response.json().code, 'SKU_TAKEN');
    });

    it('when two admins add the same SKU at once, then one gets 201 and the other 409', async () => {
      const payload = body();
      const responses = await Promise.all(
        [1, 2].map(() =>
          inject({ method: 'POST', url: '/api/products', headers: inventory.as.admin, payload }),
        ),
      );
      assert.deepEqual(responses.map((r) => r.statusCode).sort(), [201, 409]);
    });
  });

  describe('reading one', () => {
    it('when the product does not exist, then 404 PRODUCT_NOT_FOUND', async () => {
      const response = await inject({ url: `/api/products/${randomUUID()}` });
      assert.equal(response.statusCode, 404);
      assert.equal(response.json().code, 'PRODUCT_NOT_FOUND');
    });

    it('when the id is not a UUID, then 404 too', async () => {
      for (const id of ['42', 'not-a-uuid', `urn:uuid:${randomUUID()}`, "1' OR '1'='1"]) {
        const response = await inject({ url: `/api/products/${encodeURIComponent(id)}` });
        assert.equal(response.statusCode, 404, id);
        assert.equal(response.json().code, 'PRODUCT_NOT_FOUND');
      }
    });
  });

  describe('changing', () => {
    it('when an admin patches the name and price, then 200 with the change and the rest as it was', async () => {
      const product = await inventory.createProduct();
      const response = await inject({
        method: 'PATCH',
        url: `/api/products/${product.id}`,
        headers: inventory.as.admin,
        payload: { name: 'Renamed', price: { amount: 4999, currency: 'USD' } },
      });
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), {
        ...product,
        name: 'Renamed',
        price: { amount: 4999, currency: 'USD' },
      });
      assert.deepEqual((await inject({ url: `/api/products/${product.id}` })).json(), response.json());
    });

    it('when the patch is empty, then 200 with the product unchanged', async () => {
      const product = await inventory.createProduct();
      const response = await inject({
        method: 'PATCH',
        url: `/api/products/${product.id}`,
        headers: inventory.as.admin,
        payload: {},
      });
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), product);
    });

    it('when the patch touches stock or sku, then 400', async () => {
      const product = await inventory.createProduct();
      for (const payload of [{ stock: 5 }, { sku: 'NEW-SKU' }]) {
        const response = await inject({
          method: 'PATCH',
          url: `/api/products/${product.id}`,
          headers: inventory.as.admin,
          payload,
        });
        assert.equal(response.statusCode, 400);
      }
    });

    it('when the product is unknown (or the id no UUID), then 404', async () => {
      for (const id of [randomUUID(), 'nope']) {
        const response = await inject({
          method: 'PATCH',
          url: `/api/products/${id}`,
          headers: inventory.as.admin,
          payload: { name: 'x' },
        });
        assert.equal(response.statusCode, 404);
        assert.equal(response.json().code, 'PRODUCT_NOT_FOUND');
      }
    });

    it('when a customer patches, then 403; without identity, 401', async () => {
      const product = await inventory.createProduct();
      const url = `/api/products/${product.id}`;
      const payload = { name: 'Mine now' };
      const customer = await inject({ method: 'PATCH', url, headers: inventory.as.customer, payload });
      assert.equal(customer.statusCode, 403);
      assert.equal((await inject({ method: 'PATCH', url, payload })).statusCode, 401);
      assert.equal((await inject({ url })).json().name, product.name);
    });
  });

  describe('restocking', () => {
    it('when an admin restocks, then 200 with the stock increased', async () => {
      const product = await inventory.createProduct({ stock: 3 });
      const response = await inject({
        method: 'POST',
        url: `/api/products/${product.id}/restock`,
        headers: inventory.as.admin,
        payload: { quantity: 7 },
      });
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json().stock, { available: 10 });
    });

    it('when the quantity is not a positive integer, then 400', async () => {
      const product = await inventory.createProduct();
      for (const quantity of [0, -3, 1.5, '5']) {
        const response = await inject({
          method: 'POST',
          url: `/api/products/${product.id}/restock`,
          headers: inventory.as.admin,
          payload: { quantity },
        });
        assert.equal(response.statusCode, 400, String(quantity));
      }
    });

    it('when the product is unknown, then 404; a customer gets 403', async () => {
      const unknown = await inject({
        method: 'POST',
        url: `/api/products/${randomUUID()}/restock`,
        headers: inventory.as.admin,
        payload: { quantity: 1 },
      });
      assert.equal(unknown.statusCode, 404);
      const product = await inventory.createProduct();
      const customer = await inject({
        method: 'POST',
        url: `/api/products/${product.id}/restock`,
        headers: inventory.as.customer,
        payload: { quantity: 1 },
      });
      assert.equal(customer.statusCode, 403);
    });
  });

  describe('listing and searching', () => {
    const walk = async (query: string, limit: number) => {
      const pages: Product[][] = [];
      let cursor: string | undefined;
      do {
        const params = new URLSearchParams({ limit: String(limit), ...(query ? { q: query } : {}) });
        if (cursor !== undefined) params.set('cursor', cursor);
        const response = await inject({ url: `/api/products?${params.toString()}` });
        assert.equal(response.statusCode, 200, response.body);
        const page = response.json<{ items: Product[]; nextCursor?: string }>();
        assert.ok(page.items.length <= limit);
        pages.push(page.items);
        cursor = page.nextCursor;
        assert.ok(pages.length < 100, 'the walk does not end');
      } while (cursor !== undefined);
      return pages;
    };

    it('when the whole catalog is walked page by page, then every product comes exactly once, in name order', async () => {
      const label = randomUUID().slice(0, 6);
      // Equal names show that the id breaks ties.
      for (const name of ['Cedar Box', 'Amber Beads', 'Cedar Box', 'Brass Tray', 'cedar box', 'Zellige']) {
        await inventory.createProduct({ name: `${name} ${label}` });
      }
      const pages = await walk('', 4);
      const walked = pages.flat();
      const { rows } = await inventory.service.db.query<{ id: string }>(
        'SELECT id FROM products ORDER BY name, id',
      );
      assert.equal(new Set(walked.map((p) => p.id)).size, walked.length, 'no duplicates');
      assert.deepEqual(
        walked.map((p) => p.id),
        rows.map((row) => row.id),
      );
      assert.ok(pages.slice(0, -1).every((page) => page.length === 4));
    });

    it('when the last page is exactly full, then it has no nextCursor', async () => {
      const label = `Exact${randomUUID().slice(0, 6)}`;
      for (let i = 0; i < 6; i++) await inventory.createProduct({ name: `${label} ${i}` });
      const pages = await walk(label, 3);
      assert.deepEqual(
        pages.map((page) => page.length),
        [3, 3],
      );
    });

    it('when no limit is given, then a page holds 20; limits outside 1..100 are 400', async () => {
      for (let i = 0; i < 21; i++) await inventory.createProduct();
      const page = await inject({ url: '/api/products' });
      assert.equal(page.json().items.length, 20);
      assert.equal(typeof page.json().nextCursor, 'string');
      for (const limit of ['0', '101', 'ten']) {
        assert.equal((await inject({ url: `/api/products?limit=${limit}` })).statusCode, 400, limit);
      }
    });

    it('when the cursor is malformed, then 400 INVALID_CURSOR', async () => {
      const forged = Buffer.from(JSON.stringify(['x', 'not-a-uuid'])).toString('base64url');
      for (const cursor of ['garbage!', 'AAAA', forged]) {
        const response = await inject({ url: `/api/products?cursor=${encodeURIComponent(cursor)}` });
        assert.equal(response.statusCode, 400, cursor);
        assert.equal(response.json().code, 'INVALID_CURSOR');
      }
    });

    it('when searching, then name, sku and description match case-insensitively', async () => {
      const word = `Qz${randomUUID().slice(0, 6)}`;
      const byName = await inventory.createProduct({ name: `Lamp ${word.toUpperCase()}` });
      const bySku = await inventory.createProduct({ sku: `${word.toLowerCase()}-1` });
      const byDescription = await inventory.createProduct({ description: `Made by ${word.toLowerCase()}.` });
      await inventory.createProduct({ name: 'Unrelated' });
      const found = (await walk(word, 2)).flat().map((p) => p.id);
      assert.deepEqual(found.sort(), [byName.id, bySku.id, byDescription.id].sort());
    });

    it('when the term holds % or _, then they match only themselves', async () => {
      const label = randomUUID().slice(0, 6);
      const percent = await inventory.createProduct({ name: `100% Cotton ${label}` });
      const underscore = await inventory.createProduct({ name: `snake_case ${label}` });
      await inventory.createProduct({ name: `100 Cotton ${label}` });
      await inventory.createProduct({ name: `snakeXcase ${label}` });
      const search = async (q: string) =>
        (await inject({ url: `/api/products?q=${encodeURIComponent(q)}` }))
          .json()
          .items.map((p: Product) => p.id);
      assert.deepEqual(await search(`100% Cotton ${label}`), [percent.id]);
      assert.deepEqual(await search(`snake_case ${label}`), [underscore.id]);
      assert.deepEqual(await search(`%${label}_`), []);
    });

    it('when nothing matches, then an empty page without a cursor', async () => {
      const response = await inject({ url: `/api/products?q=${randomUUID()}` });
      assert.deepEqual(response.json(), { items: [] });
    });
  });

  it('when the database is up, then the service is ready', async () => {
    const ready = await inject({ url: '/health/ready' });
    assert.equal(ready.statusCode, 200);
    assert.equal(ready.json().checks.database, 'up');
  });
});
