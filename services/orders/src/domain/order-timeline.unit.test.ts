import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { orderTimeline, timelineGantt } from './order-timeline.ts';

const t = (ms: number) => new Date(Date.UTC(2026, 10, 27, 12, 0, 0, ms));

describe('order timeline', () => {
  const entries = orderTimeline(
    [
      { type: 'OrderPlaced', at: t(0) },
      { type: 'OrderCancelled', at: t(90) },
    ],
    [
      {
        saga: 'place-order',
        step: 'reserve-stock',
        direction: 'forward',
        status: 'SUCCEEDED',
        attempts: 1,
        startedAt: t(5),
        finishedAt: t(20),
      },
      {
        saga: 'place-order',
        step: 'charge-payment',
        direction: 'forward',
        status: 'FAILED',
        attempts: 1,
        error: 'payment declined',
        startedAt: t(21),
        finishedAt: t(60),
      },
      {
        saga: 'place-order',
        step: 'reserve-stock',
        direction: 'compensation',
        status: 'SUCCEEDED',
        attempts: 2,
        startedAt: t(61),
        finishedAt: t(85),
      },
    ],
  );

  it('given events and steps, when the timeline is drawn, then they come in time order with durations', () => {
    assert.deepEqual(
      entries.map((e) => e.name),
      ['OrderPlaced', 'reserve-stock', 'charge-payment', 'undo reserve-stock', 'OrderCancelled'],
    );
    const charge = entries[2]!;
    assert.equal(charge.kind === 'step' && charge.durationMs, 39);
    assert.equal(charge.kind === 'step' && charge.error, 'payment declined');
  });

  it('given a timeline, when drawn as Gantt, then failed steps are marked critical and retries counted', () => {
    const gantt = timelineGantt('c5d7a2a4-269d-49f3-a0c2-7cc3eec8528d', entries);
    assert.match(gantt, /^gantt\n {2}title Order c5d7a2a4\n/);
    assert.match(gantt, / {2}OrderPlaced :milestone, 0, 0ms/);
    assert.match(gantt, / {2}charge-payment :crit, 21, 39ms/);
    assert.match(gantt, / {2}undo reserve-stock ×2 :done, 61, 24ms/);
  });
});
