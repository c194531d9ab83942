import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { missingEngineLine } from './engines.ts';
import { parseInstances } from './fleet.ts';

describe('fleet', () => {
  it('when no count is given, then every service runs twice', () => {
    assert.deepEqual(parseInstances(undefined), {
      users: 2,
      inventory: 2,
      orders: 2,
      payments: 2,
      notifications: 2,
    });
  });

  it('when one number is given, then every service runs that often; per service, only those change', () => {
    assert.equal(parseInstances('3').payments, 3);
    const some = parseInstances('orders=3,payments=1');
    assert.deepEqual([some.orders, some.payments, some.users], [3, 1, 2]);
  });

  it('when a count names no service or is not a whole number, then the error says which', () => {
    assert.throws(() => parseInstances('shipping=2'), /'shipping' is not a service/);
    assert.throws(() => parseInstances('orders=two'), /--instances orders: expected a whole number/);
    assert.throws(() => parseInstances('0'), /expected a whole number from 1 to 16/);
  });

  it('when an engine is missing, then one line names it, where it was looked for, and how to start it', () => {
    const line = missingEngineLine('amqp', 'amqp://guest:guest@127.0.0.1:5672');
    assert.equal(line.split('\n').length, 1);
    assert.match(
      line,
      /^RabbitMQ does not answer at amqp:\/\/127\.0\.0\.1:5672: start it \(apt-get install rabbitmq-server/,
    );
    assert.doesNotMatch(line, /guest:guest/, 'no credentials in the line');
  });
});
