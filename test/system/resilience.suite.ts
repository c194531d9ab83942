// What the supervisor promises: a service killed with -9 comes back, and its data with it.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ADMIN, type RunningShop } from './shop.fixture.ts';

export function resilienceSuite(running: () => RunningShop): void {
  let shop: RunningShop;

  before(() => {
    shop = running();
  });

  describe('the supervisor', () => {
    it('when a service is killed with -9, then it is restarted and serves again', async () => {
      const users = shop.processes.get('users')!;
      const before = users.starts;
      process.kill(users.pid!, 'SIGKILL');
      const deadline = Date.now() + 20_000;
      for (;;) {
        const response = await shop.api('GET', '/.well-known/jwks.json').catch(() => undefined);
        if (users.starts > before && response?.status === 200) break;
        assert.ok(Date.now() < deadline, 'users came back within 20 s');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const login = await shop.api('POST', '/api/auth/login', { body: ADMIN });
      assert.equal(login.status, 200, 'data survived the crash');
    });
  });
}
