import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createPool, migrate, type Pool } from '../db.ts';
import { createTestDatabase, type TestDatabase } from '../testing.ts';
import { SAGA_MIGRATIONS, StepRejected, type SagaDefinition } from './saga.ts';
import { SagaRunner } from './saga-runner.ts';

interface DemoState {
  reject?: boolean;
}

const demo: SagaDefinition<DemoState> = {
  type: 'demo',
  steps: [
    {
      name: 'only',
      run: async ({ state }) => {
        if (state.reject === true) throw new StepRejected('refused');
      },
    },
  ],
  onCompleted: async () => {},
  onCompensated: async () => {},
};

/** The value of one series of a metric, as /metrics would show it. */
async function value(metrics: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await metrics.getMetricsAsJSON()).find((m) => m.name === name);
  const series = metric?.values.find((v) =>
    Object.entries(labels).every(([key, wanted]) => String(v.labels[key]) === wanted),
  );
  assert.ok(series, `${name}${JSON.stringify(labels)} is exported`);
  return series.value;
}

describe('saga metrics', () => {
  let database: TestDatabase;
  let db: Pool;
  const metrics = new Registry();
  let runner: SagaRunner;

  before(async () => {
    database = await createTestDatabase('saga_metrics');
    db = createPool(database.url);
    await migrate(db, SAGA_MIGRATIONS);
    runner = new SagaRunner({ db, log: pino({ level: 'silent' }), metrics, deadlineMs: 60_000 });
    runner.register(demo);
  });

  after(async () => {
    await runner.stop();
    await db.end();
    await database.drop();
  });

  it('when no saga is unfinished, then the gauges of each registered type read 0', async () => {
    assert.equal(await value(metrics, 'saga_unfinished', { type: 'demo' }), 0);
    assert.equal(await value(metrics, 'saga_past_deadline', { type: 'demo' }), 0);
  });

  it('when sagas end, then their durations are observed by type and outcome', async () => {
    const completed = randomUUID();
    const compensated = randomUUID();
    await runner.begin(db, 'demo', completed, {});
    await runner.begin(db, 'demo', compensated, { reject: true });
    await Promise.all([runner.run(completed), runner.run(compensated)]);
    const count = (outcome: string) =>
      value(metrics, 'saga_duration_seconds', { type: 'demo', outcome, le: '+Inf' });
    assert.equal(await count('completed'), 1);
    assert.equal(await count('compensated'), 1);
  });

  it('when a saga is older than the deadline and unfinished, then it counts as past the deadline', async () => {
    const stuck = randomUUID();
    const recent = randomUUID();
    await runner.begin(db, 'demo', stuck, {});
    await runner.begin(db, 'demo', recent, {});
    await db.query(`UPDATE saga_instances SET created_at = now() - interval '2 minutes' WHERE id = $1`, [
      stuck,
    ]);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // past the one-scrape cache
    assert.equal(await value(metrics, 'saga_unfinished', { type: 'demo' }), 2);
    assert.equal(await value(metrics, 'saga_past_deadline', { type: 'demo' }), 1);
    assert.ok((await value(metrics, 'saga_oldest_unfinished_age_seconds', { type: 'demo' })) >= 120);
  });
});
