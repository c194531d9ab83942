import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLineFormatter } from './log-lines.ts';

describe('log lines', () => {
  const format = createLineFormatter(false);

  it('when a service writes a JSON line, then it reads as time, level, message and the details', () => {
    const line = JSON.stringify({
      level: 30,
      time: '2026-11-27T17:22:26.266Z',
      service: 'orders',
      msg: 'saga completed',
      traceId: 'abc',
      sagaId: 's-1',
    });
    assert.equal(
      format('orders', line),
      'orders        17:22:26.266 INFO saga completed traceId=abc sagaId=s-1',
    );
  });

  it('when an error carries a stack, then the stack follows on its own lines', () => {
    const line = JSON.stringify({
      level: 50,
      time: '2026-11-27T17:00:00.000Z',
      msg: 'failed',
      err: { stack: 'Error: x\n    at y' },
    });
    assert.match(format('users', line), /^users {9}17:00:00\.000 ERROR failed err=\nError: x\n {4}at y$/);
  });

  it('when a line is not JSON, then it is shown as it came, prefixed', () => {
    assert.equal(format('postgres', 'LOG:  ready'), 'postgres      LOG:  ready');
  });
});
