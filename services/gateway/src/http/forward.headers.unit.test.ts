import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  connectionOptions,
  forwardedFor,
  isForwardedResponseHeader,
  upstreamRequestHeaders,
} from './forward.headers.ts';

describe('forwarded headers', () => {
  it('when a request carries hop-by-hop, identity or token headers, then none of them goes upstream', () => {
    const headers = upstreamRequestHeaders({
      accept: 'application/json',
      'content-type': 'application/json',
      'idempotency-key': 'k1',
      authorization: 'Bearer abc',
      'x-souk-identity': 'forged',
      'x-souk-anything': 'forged',
      'x-user-id': 'admin',
      connection: 'keep-alive, x-secret-hop',
      'x-secret-hop': '1',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      upgrade: 'websocket',
      te: 'trailers',
      trailer: 'x-checksum',
      'proxy-authorization': 'Basic eA==',
      host: 'gateway.example',
      'content-length': '12',
      'x-request-id': 'client-chosen',
      expect: '100-continue',
    });
    assert.deepEqual(headers, {
      accept: 'application/json',
      'content-type': 'application/json',
      'idempotency-key': 'k1',
    });
  });

  it('when an upstream answers, then only end-to-end headers go back to the client', () => {
    const named = connectionOptions('close, x-hop');
    assert.equal(isForwardedResponseHeader('content-type', named), true);
    assert.equal(isForwardedResponseHeader('content-length', named), true);
    assert.equal(isForwardedResponseHeader('set-cookie', named), true);
    for (const name of ['connection', 'keep-alive', 'transfer-encoding', 'proxy-authenticate', 'x-hop']) {
      assert.equal(isForwardedResponseHeader(name, named), false, name);
    }
    assert.equal(connectionOptions('keep-alive'), undefined);
  });

  it('when x-forwarded-for is present, then the client is appended to it', () => {
    assert.equal(forwardedFor(undefined, '10.0.0.1'), '10.0.0.1');
    assert.equal(forwardedFor('1.1.1.1', '10.0.0.1'), '1.1.1.1, 10.0.0.1');
    assert.equal(forwardedFor(['1.1.1.1', '2.2.2.2'], '10.0.0.1'), '1.1.1.1, 2.2.2.2, 10.0.0.1');
  });
});
