// The internal price lookup on real PostgreSQL: an order's lines priced in one call, for the orders service only.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startInventory, type InventoryFixture } from '../testing/inventory.fixture.ts';

describe('prices API (internal)', () => {
  let inventory: InventoryFixture;

  before(async () => {
    inventory = await startInventory('prices');
  });

  after(async () => {
    await inventory.close();
  });

  const prices = (body: unknown, headers: Record<string, string> = inventory.as.orders) =>
    inventory.service.app.inject({
      method: 'POST',
      url: '/internal/prices',
      headers,
      payload: body as object,
    });

  it('when several products are asked for, then each existing one comes with its price and an unknown one is left out', async () => {
    const tea = await inventory.createProduct({ stock: 1, price: { amount: 1299, currency: 'USD' } });
    const pot = await inventory.createProduct({ stock: 1, price: { amount: 6900, currency: 'EUR' } });
    const response = await prices({ productIds: [tea.id, randomUUID(), pot.id] });
    assert.equal(response.statusCode, 200);
    const { items } = response.json<{ items: { productId: string }[] }>();
    assert.deepEqual(
      items.sort((a, b) => a.productId.localeCompare(b.productId)),
      [
        { productId: tea.id, price: { amount: 1299, currency: 'USD' } },
        { productId: pot.id, price: { amount: 6900, currency: 'EUR' } },
      ].sort((a, b) => a.productId.localeCompare(b.productId)),
    );
  });

  it('when the list is empty, malformed or repeats an id, then 400 problem+json', async () => {
    const id = randomUUID();
    for (const body of [{ productIds: [] }, { productIds: ['tea'] }, { productIds: [id, id] }, {}]) {
      const response = await prices(body);
      assert.equal(response.statusCode, 400, JSON.stringify(body));
      assert.match(String(response.headers['content-type']), /application\/problem\+json/);
    }
  });

  it('when the caller is not the orders service, then it is refused', async () => {
    const response = await prices({ productIds: [randomUUID()] }, {});
    assert.equal(response.statusCode, 401);
  });
});
