// The simulated card processor and the processor timeout, without I/O.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TEST_CARDS } from '@souk/contracts';
import fc from 'fast-check';
import { ProcessorTimeoutError, chargeWithin, type CardProcessor } from './card-processor.ts';
import { SimulatedCardProcessor, simulatedDecision, simulatedStatus } from './simulated.processor.ts';

const amount = { amount: 1999, currency: 'USD' };
const request = (card: string, reference = 'ref-1') => ({ reference, amount, card });

describe('simulated processor decisions', () => {
  it('when the approving test card is charged, then it is approved with an authorization', () => {
    const decision = simulatedDecision(request(TEST_CARDS.approves));
    assert.equal(decision !== 'no answer' && decision.approved, true);
    assert.match(
      decision !== 'no answer' && decision.approved ? decision.authorization : '',
      /^sim_[0-9a-f]{20}$/,
    );
  });

  it('when the declining test card is charged, then it is declined as "card declined"', () => {
    assert.deepEqual(simulatedDecision(request(TEST_CARDS.declines)), {
      approved: false,
      reason: 'card declined',
    });
  });

  it('when a Luhn-invalid number is charged, then it is declined as "invalid card number"', () => {
    assert.deepEqual(simulatedDecision(request('4242424242424241')), {
      approved: false,
      reason: 'invalid card number',
    });
  });

  it('when any other Luhn-valid number is charged, then it is approved', () => {
    for (const card of ['5555555555554444', '378282246310005', '6011111111111117']) {
      const decision = simulatedDecision(request(card));
      assert.equal(decision !== 'no answer' && decision.approved, true, card);
    }
  });

  it('when the hanging test card is charged, then there is no answer', () => {
    assert.equal(simulatedDecision(request(TEST_CARDS.hangs)), 'no answer');
  });

  it('for any card and reference, then asking again gives the same answer; another reference, another authorization', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{12,19}$/), fc.uuid(), fc.uuid(), (card, first, second) => {
        assert.deepEqual(simulatedDecision(request(card, first)), simulatedDecision(request(card, first)));
        const [a, b] = [simulatedDecision(request(card, first)), simulatedDecision(request(card, second))];
        if (first !== second && a !== 'no answer' && a.approved && b !== 'no answer' && b.approved)
          assert.notEqual(a.authorization, b.authorization);
      }),
    );
  });
});

describe('simulated processor look-ups', () => {
  it('when a charge is looked up later, then the approving card was approved and the declining card declined, as when charged', () => {
    for (const card of [TEST_CARDS.approves, TEST_CARDS.declines])
      assert.deepEqual(simulatedStatus(request(card)), simulatedDecision(request(card)), card);
  });

  it('when a charge on the hanging card is looked up later, then it was approved late, the same way each time', () => {
    const status = simulatedStatus(request(TEST_CARDS.hangs, 'ref-9'));
    assert.equal(status !== 'unknown' && status.approved, true);
    assert.deepEqual(simulatedStatus(request(TEST_CARDS.hangs, 'ref-9')), status);
  });
});

describe('SimulatedCardProcessor', () => {
  const processor = new SimulatedCardProcessor();

  it('when the hanging card is charged, then the call settles only when its signal is aborted, with its reason', async () => {
    const controller = new AbortController();
    let settled = false;
    const call = processor.charge(request(TEST_CARDS.hangs), { signal: controller.signal }).finally(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(settled, false);
    const reason = new Error('gave up');
    controller.abort(reason);
    await assert.rejects(call, (error) => error === reason);
  });

  it('when the signal is already aborted, then no charge is made', async () => {
    await assert.rejects(processor.charge(request(TEST_CARDS.approves), { signal: AbortSignal.abort() }));
  });
});

describe('chargeWithin', () => {
  it('when the processor answers in time, then that is the answer', async () => {
    const decision = await chargeWithin(new SimulatedCardProcessor(), request(TEST_CARDS.approves), 1000);
    assert.equal(decision.approved, true);
  });

  it('when the processor does not answer in time, then ProcessorTimeoutError after about the timeout, and its signal is aborted', async () => {
    let seen: AbortSignal | undefined;
    const hanging: CardProcessor = {
      charge: (_request, options) => {
        seen = options?.signal;
        return new Promise(() => {});
      },
      status: () => new Promise(() => {}),
    };
    const started = performance.now();
    await assert.rejects(chargeWithin(hanging, request(TEST_CARDS.approves), 50), ProcessorTimeoutError);
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 45 && elapsed < 1000, `took ${elapsed} ms`);
    assert.equal(seen?.aborted, true);
  });
});
