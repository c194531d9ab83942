// Orders asks users whether an account may order and inventory for prices, so the integration tests order as
// registered customers, for products an admin created.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { App, IdentitySigner } from '@souk/chassis';

/** Registers a new customer with the users service in process; resolves with its id. */
export async function registerCustomer(users: { app: App }): Promise<string> {
  const response = await users.app.inject({
    method: 'POST',
    url: '/api/users',
    payload: { email: `${randomUUID()}@example.com`, password: 'a-long-password-1', name: 'Customer' },
  });
  assert.equal(response.statusCode, 201, response.body);
  return response.json<{ id: string }>().id;
}

/** Creates a product with the inventory service in process, as an admin; resolves with its id. */
export async function createProduct(
  inventory: { app: App; identity: IdentitySigner },
  stock: number,
  amount = 1250,
): Promise<string> {
  const response = await inventory.app.inject({
    method: 'POST',
    url: '/api/products',
    headers: {
      'x-souk-identity': inventory.identity.sign({
        kind: 'user',
        sub: randomUUID(),
        role: 'admin',
        exp: Math.floor(Date.now() / 1000) + 600,
      }),
    },
    payload: {
      sku: `TEST-${randomUUID().slice(0, 8)}`,
      name: 'Tagine',
      description: 'Clay.',
      price: { amount, currency: 'USD' },
      stock,
    },
  });
  assert.equal(response.statusCode, 201, response.body);
  return response.json<{ id: string }>().id;
}
