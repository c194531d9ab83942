// The whole shop on the local profile's transport: RabbitMQ on 127.0.0.1:5672.
import { after, before, describe } from 'node:test';
import { contractSuite } from './contract.suite.ts';
import { ordersSuite } from './orders.suite.ts';
import { resilienceSuite } from './resilience.suite.ts';
import { startTestShop, type RunningShop } from './shop.fixture.ts';

describe('the shop on the RabbitMQ transport', () => {
  let shop: RunningShop;
  before(async () => {
    shop = await startTestShop('amqp');
  });
  after(async () => {
    await shop?.close();
  });
  contractSuite(() => shop);
  ordersSuite(() => shop);
  resilienceSuite(() => shop);
});
