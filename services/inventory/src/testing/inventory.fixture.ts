// Test support: an inventory service on a throwaway database, with the identities its callers present.
import { randomUUID } from 'node:crypto';
import type { Service } from '@souk/chassis';
import { createTestDatabase, testEnvironment, type TestDatabase } from '@souk/chassis/testing';
import type { CreateProduct, Product } from '@souk/contracts';
import { buildInventory, type InventoryConfig } from '../app.ts';

export interface InventoryFixture {
  service: Service<InventoryConfig>;
  database: TestDatabase;
  /** `x-souk-identity` headers for each kind of caller. */
  as: {
    admin: Record<string, string>;
    customer: Record<string, string>;
    orders: Record<string, string>;
    payments: Record<string, string>;
  };
  createProduct(overrides?: Partial<CreateProduct>): Promise<Product>;
  available(productId: string): Promise<number>;
  close(): Promise<void>;
}

export async function startInventory(label: string, env: NodeJS.ProcessEnv = {}): Promise<InventoryFixture> {
  const database = await createTestDatabase(label);
  const service = await buildInventory({ env: { ...testEnvironment(database.url), ...env } });
  await service.app.ready();
  const exp = Math.floor(Date.now() / 1000) + 600;
  const header = (credential: string) => ({ 'x-souk-identity': credential });
  const as = {
    admin: header(service.identity.sign({ kind: 'user', sub: randomUUID(), role: 'admin', exp })),
    customer: header(service.identity.sign({ kind: 'user', sub: randomUUID(), role: 'customer', exp })),
    orders: header(service.identity.sign({ kind: 'service', name: 'orders', exp })),
    payments: header(service.identity.sign({ kind: 'service', name: 'payments', exp })),
  };
  return {
    service,
    database,
    as,
    async createProduct(overrides = {}) {
      const sku = `SKU-${randomUUID().slice(0, 8)}`;
      const response = await service.app.inject({
        method: 'POST',
        url: '/api/products',
        headers: as.admin,
        payload: {
          sku,
          name: `Product ${sku}`,
          description: 'A thing for sale.',
          price: { amount: 1000, currency: 'USD' },
          stock: 10,
          ...overrides,
        },
      });
      if (response.statusCode !== 201)
        throw new Error(`createProduct: ${response.statusCode} ${response.body}`);
      return response.json<Product>();
    },
    async available(productId) {
      const { rows } = await service.db.query<{ available: number }>(
        'SELECT available FROM products WHERE id = $1',
        [productId],
      );
      return rows[0]!.available;
    },
    async close() {
      await service.stop();
      await database.drop();
    },
  };
}
