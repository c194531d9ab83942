// The demo catalog is seeded once, only when asked, however many instances start.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, testEnvironment, type TestDatabase } from '@souk/chassis/testing';
import { buildInventory } from '../app.ts';
import { DEMO_CATALOG } from './demo-catalog.seed.ts';

describe('demo catalog', () => {
  let database: TestDatabase;

  before(async () => {
    database = await createTestDatabase('inventory_seed');
  });

  after(async () => {
    await database.drop();
  });

  const start = async (seed: boolean) => {
    const service = await buildInventory({
      env: { ...testEnvironment(database.url), SOUK__SEED_DEMO_CATALOG: String(seed) },
    });
    const { rows } = await service.db.query<{ count: number }>('SELECT count(*)::int AS count FROM products');
    await service.stop();
    return rows[0]!.count;
  };

  it('when the demo catalog is read, then it holds about 20 products with distinct SKUs, USD prices and stock of 20 to 200', () => {
    assert.ok(DEMO_CATALOG.length >= 18 && DEMO_CATALOG.length <= 25);
    assert.equal(new Set(DEMO_CATALOG.map((p) => p.sku.toLowerCase())).size, DEMO_CATALOG.length);
    for (const product of DEMO_CATALOG) {
      assert.ok(product.stock >= 20 && product.stock <= 200, product.sku);
      assert.ok(Number.isInteger(product.price) && product.price > 0, product.sku);
    }
  });

  it('when the setting is off (the default), then nothing is seeded', async () => {
    assert.equal(await start(false), 0);
  });

  it('when several instances start together with it on, then the catalog is seeded once', async () => {
    const counts = await Promise.all([start(true), start(true), start(true)]);
    assert.deepEqual(counts, [DEMO_CATALOG.length, DEMO_CATALOG.length, DEMO_CATALOG.length]);
  });

  it('when the service restarts, then nothing is added again, even after a product was changed', async () => {
    const service = await buildInventory({ env: testEnvironment(database.url) });
    await service.db.query("UPDATE products SET name = 'Renamed' WHERE sku = $1", [DEMO_CATALOG[0]!.sku]);
    await service.stop();
    assert.equal(await start(true), DEMO_CATALOG.length);
  });

  it('when the catalog is seeded, then it is listed like any other product', async () => {
    const service = await buildInventory({ env: testEnvironment(database.url) });
    try {
      const response = await service.app.inject({ url: '/api/products?q=saffron' });
      assert.equal(response.statusCode, 200);
      const [saffron] = response.json().items;
      assert.equal(saffron.price.currency, 'USD');
      assert.equal(saffron.stock.available, 200);
    } finally {
      await service.stop();
    }
  });
});
