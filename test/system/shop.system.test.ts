// The whole shop, once on each message transport: PostgreSQL (the local profile's `bus` database) and RabbitMQ
// on 127.0.0.1:5672.
import { after, before, describe } from 'node:test';
import { contractSuite } from './contract.suite.ts';
import { hostileInputSuite } from './hostile-input.suite.ts';
import { ordersSuite } from './orders.suite.ts';
import { resilienceSuite } from './resilience.suite.ts';
import { skipReason, startTestShop, type RunningShop, type Transport } from './shop.fixture.ts';

for (const transport of ['postgres', 'amqp'] satisfies Transport[]) {
  describe(`the shop on the ${transport} transport`, { skip: await skipReason(transport) }, () => {
    let shop: RunningShop;
    before(async () => {
      shop = await startTestShop(transport);
    });
    after(async () => {
      await shop?.close();
    });
    contractSuite(() => shop);
    ordersSuite(() => shop);
    resilienceSuite(() => shop);
    // Edge cases do not depend on the transport; once is enough.
    if (transport === 'postgres') hostileInputSuite(() => shop);
  });
}
