import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Health } from './health.ts';

describe('Health', () => {
  it('when a check reports degraded, then the instance stays ready and the details say why', async () => {
    const health = new Health();
    health.addCheck('database', async () => {});
    health.addCheck('messaging', async () => ({ degraded: '1 event(s) parked' }));
    assert.deepEqual(await health.readiness(), {
      ready: true,
      checks: { database: 'up', messaging: 'degraded: 1 event(s) parked' },
    });
  });

  it('when a check throws, then the instance is not ready', async () => {
    const health = new Health();
    health.addCheck('messaging', () => Promise.reject(new Error('not connected to RabbitMQ')));
    assert.deepEqual(await health.readiness(), {
      ready: false,
      checks: { messaging: 'down: not connected to RabbitMQ' },
    });
  });
});
