import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Wakeup, sleep } from './wakeups.ts';

describe('Wakeup', () => {
  it('when woken while waiting, then the wait ends before its timeout', async () => {
    const wakeup = new Wakeup();
    const started = Date.now();
    setTimeout(() => wakeup.wake(), 10);
    await wakeup.wait(5000);
    assert.ok(Date.now() - started < 1000);
  });

  it('when woken while nobody waits, then the next wait returns at once, and only that one', async () => {
    const wakeup = new Wakeup();
    wakeup.wake();
    wakeup.wake();
    const started = Date.now();
    await wakeup.wait(5000);
    assert.ok(Date.now() - started < 100);
    const second = Date.now();
    await wakeup.wait(30);
    assert.ok(Date.now() - second >= 25);
  });

  it('when nobody wakes it, then the wait ends after its timeout', async () => {
    const started = Date.now();
    await new Wakeup().wait(30);
    assert.ok(Date.now() - started >= 25);
  });
});

describe('sleep', () => {
  it('when its signal aborts, then it resolves early without throwing', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 10);
    await sleep(5000, controller.signal);
    assert.ok(Date.now() - started < 1000);
  });
});
