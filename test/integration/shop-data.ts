// Orders asks users whether an account may order and inventory for prices, so the integration tests order as
// registered customers, for products an admin created.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { App, IdentitySigner } from '@souk/chassis';
import { TEST_CARDS } from '@souk/contracts';

/** The password every customer registerCustomer makes signs in with. */
export const CUSTOMER_PASSWORD = 'a-long-password-1';

/**
 * The header a service in process trusts as the gateway's word on who calls: `sub` in `role`, for ten minutes.
 */
export function identityHeader(
  service: { identity: IdentitySigner },
  sub: string,
  role: 'customer' | 'admin' = 'customer',
): { 'x-souk-identity': string } {
  return {
    'x-souk-identity': service.identity.sign({
      kind: 'user',
      sub,
      role,
      exp: Math.floor(Date.now() / 1000) + 600,
    }),
  };
}

/**
 * Registers a new customer with the users service in process (`email`, or a fresh one, and CUSTOMER_PASSWORD);
 * resolves with its id.
 */
export async function registerCustomer(
  users: { app: App },
  email = `${randomUUID()}@example.com`,
): Promise<string> {
  const response = await users.app.inject({
    method: 'POST',
    url: '/api/users',
    payload: { email, password: CUSTOMER_PASSWORD, name: 'Customer' },
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
    headers: identityHeader(inventory, randomUUID(), 'admin'),
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

/**
 * Places an order for one of `productId` with the orders service in process, as customer `customerId`, paying
 * with the test card that approves; resolves with the answer, whatever it is.
 */
export function placeOrderAs(
  orders: { app: App; identity: IdentitySigner },
  customerId: string,
  productId: string,
) {
  return orders.app.inject({
    method: 'POST',
    url: '/api/orders',
    headers: { ...identityHeader(orders, customerId), 'idempotency-key': randomUUID() },
    payload: { items: [{ productId, quantity: 1 }], payment: { card: TEST_CARDS.approves } },
  });
}
