import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEnvelope } from './envelope.ts';

describe('createEnvelope', () => {
  const data = { userId: 'u1', email: 'a@example.com', name: 'A' };

  it('when only the source is given, then it is a CloudEvents 1.0 envelope with a fresh UUID and now', () => {
    const envelope = createEnvelope('user.registered', data, {
      source: 'souk/users',
      clock: () => new Date('2030-01-02T03:04:05.000Z'),
    });
    assert.deepEqual(envelope, {
      specversion: '1.0',
      id: envelope.id,
      type: 'user.registered',
      source: 'souk/users',
      time: '2030-01-02T03:04:05.000Z',
      datacontenttype: 'application/json',
      data,
    });
    assert.match(envelope.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('when two envelopes are created, then their ids differ', () => {
    const options = { source: 'souk/users' };
    assert.notEqual(createEnvelope('x.happened', 1, options).id, createEnvelope('x.happened', 1, options).id);
  });

  it('when id, time, subject and traceparent are given, then they are used as given', () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const envelope = createEnvelope('user.registered', data, {
      source: 'souk/users',
      id: 'evt-1',
      time: new Date('2030-01-01T00:00:00Z'),
      subject: 'u1',
      traceparent,
    });
    assert.equal(envelope.id, 'evt-1');
    assert.equal(envelope.time, '2030-01-01T00:00:00.000Z');
    assert.equal(envelope.subject, 'u1');
    assert.equal(envelope.traceparent, traceparent);
  });

  it('when the type or source is empty, then it refuses', () => {
    assert.throws(() => createEnvelope('', {}, { source: 'souk/users' }), TypeError);
    assert.throws(() => createEnvelope('x.happened', {}, { source: '' }), TypeError);
  });

  it('when a contract type is given data of another shape, then it does not compile (checked by tsc)', () => {
    const options = { source: 'souk/orders' };
    const valid = createEnvelope('order.cancelled', { orderId: 'o', userId: 'u', reason: 'r' }, options);
    // @ts-expect-error order.cancelled needs userId and reason
    const invalid = () => createEnvelope('order.cancelled', { orderId: 'o' }, options);
    assert.equal(valid.data.reason, 'r');
    assert.equal(typeof invalid, 'function');
  });

  it('when serialised and parsed, then nothing is lost', () => {
    const envelope = createEnvelope('user.registered', data, { source: 'souk/users', subject: 'u1' });
    assert.deepEqual(JSON.parse(JSON.stringify(envelope)), envelope);
  });
});
