// Orders asks users whether an account may order, so the integration tests order as registered customers.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { App } from '@souk/chassis';

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
