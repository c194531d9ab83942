// The whole shop on the local profile's transport: PostgreSQL (the `bus` database).
import { after, before, describe } from 'node:test';
import { contractSuite } from './contract.suite.ts';
import { ordersSuite } from './orders.suite.ts';
import { resilienceSuite } from './resilience.suite.ts';
import { startTestShop, type RunningShop } from './shop.fixture.ts';

describe('the shop on the PostgreSQL transport', () => {
  let shop: RunningShop;
  before(async () => {
    shop = await startTestShop('postgres');
  });
  after(async () => {
    await shop?.close();
  });
  contractSuite(() => shop);
  ordersSuite(() => shop);
  resilienceSuite(() => shop);
});
