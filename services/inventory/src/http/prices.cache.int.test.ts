// The internal price lookup answers from memory in a running inventory instance, and forgets a price as soon as
// it changes, whichever instance changed it; stock changes, at every order, do not make it forget.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Product } from '@souk/contracts';
import { testEnvironment } from '@souk/chassis/testing';
import { buildInventory, type InventoryConfig } from '../app.ts';
import { startInventory, type InventoryFixture } from '../testing/inventory.fixture.ts';
import type { Service } from '@souk/chassis';

describe('price cache', () => {
  let inventory: InventoryFixture;
  /** A second instance on the same database, as in the fleet. */
  let other: Service<InventoryConfig>;

  before(async () => {
    inventory = await startInventory('price_cache');
    await inventory.service.start();
    other = await buildInventory({ env: testEnvironment(inventory.database.url) });
    await other.start();
  });

  after(async () => {
    await other.stop();
    await inventory.close();
  });

  const priceOf = async (service: Service<InventoryConfig>, productId: string) => {
    const response = await service.app.inject({
      method: 'POST',
      url: '/internal/prices',
      headers: inventory.as.orders,
      payload: { productIds: [productId] },
    });
    assert.equal(response.statusCode, 200, response.body);
    return response.json<{ items: Array<{ price: Product['price'] }> }>().items[0]?.price.amount;
  };

  /** Changes a price with nobody told: shows whether an answer still comes from memory. */
  const repriceUnannounced = async (productId: string, amount: number) => {
    const db = inventory.service.db;
    await db.query('ALTER TABLE products DISABLE TRIGGER products_price_changed');
    try {
      await db.query('UPDATE products SET price_amount = $2 WHERE id = $1', [productId, amount]);
    } finally {
      await db.query('ALTER TABLE products ENABLE TRIGGER products_price_changed');
    }
  };

  /** Polls for up to a second: a notification crosses from the writer's connection to the listeners'. */
  const within1s = async (condition: () => Promise<boolean>, message: string) => {
    const deadline = Date.now() + 1000;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`not within 1 s: ${message}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  it('when a price was asked for, then a repeat is answered from memory, and stock changes leave it there', async () => {
    const tea = await inventory.createProduct({ price: { amount: 1299, currency: 'USD' } });
    const pot = await inventory.createProduct({ price: { amount: 6900, currency: 'USD' } });
    assert.equal(await priceOf(inventory.service, tea.id), 1299);
    assert.equal(await priceOf(inventory.service, pot.id), 6900);
    await repriceUnannounced(tea.id, 1);
    assert.equal(await priceOf(inventory.service, tea.id), 1299);

    const restocked = await inventory.service.app.inject({
      method: 'POST',
      url: `/api/products/${tea.id}/restock`,
      headers: inventory.as.admin,
      payload: { quantity: 5 },
    });
    assert.equal(restocked.statusCode, 200, restocked.body);
    // Notifications arrive in order: once the pot's is seen, a notification of the restock would have been too.
    await inventory.service.db.query('UPDATE products SET price_amount = 7000 WHERE id = $1', [pot.id]);
    await within1s(async () => (await priceOf(inventory.service, pot.id)) === 7000, "the pot's new price");
    assert.equal(await priceOf(inventory.service, tea.id), 1299, 'still from memory after the restock');
  });

  it('when an admin changes a price through another instance, then this one answers the new price within a second', async () => {
    const tea = await inventory.createProduct({ price: { amount: 1299, currency: 'USD' } });
    assert.equal(await priceOf(inventory.service, tea.id), 1299);
    assert.equal(await priceOf(other, tea.id), 1299);
    const patched = await other.app.inject({
      method: 'PATCH',
      url: `/api/products/${tea.id}`,
      headers: inventory.as.admin,
      payload: { price: { amount: 1499, currency: 'USD' } },
    });
    assert.equal(patched.statusCode, 200, patched.body);
    for (const service of [inventory.service, other])
      await within1s(async () => (await priceOf(service, tea.id)) === 1499, 'the new price');
  });
});
