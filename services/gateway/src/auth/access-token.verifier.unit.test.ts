import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createIdentitySigner, ProblemError } from '@souk/chassis';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER } from '@souk/contracts';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair } from 'jose';
import { AccessTokenVerifier, type KeySource } from './access-token.verifier.ts';
import { JwksCache } from './jwks.cache.ts';

const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'EdDSA' }] };
const signer = createIdentitySigner('unit-test-secret-0123456789abcdef0123');
const NOW = Date.UTC(2030, 0, 1);

const token = (sub: string, expSeconds = NOW / 1000 + 600) =>
  new SignJWT({ role: 'customer' })
    .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
    .setSubject(sub)
    .setIssuer(ACCESS_TOKEN_ISSUER)
    .setAudience(ACCESS_TOKEN_AUDIENCE)
    .setExpirationTime(expSeconds)
    .sign(privateKey);

function verifierWith(options: { cacheSize?: number; now?: () => number } = {}) {
  const calls = { current: 0 };
  const keys = createLocalJWKSet(jwks);
  const source: KeySource = {
    current: async () => {
      calls.current++;
      return keys;
    },
    refreshForUnknownKey: async () => undefined,
  };
  const verifier = new AccessTokenVerifier({
    jwks: source,
    signer,
    clock: options.now ?? (() => NOW),
    cacheSize: () => options.cacheSize ?? 100,
  });
  return { verifier, calls };
}

describe('access token verifier', () => {
  it('when a token was verified before, then the next time is a lookup, no key or signature work', async () => {
    const { verifier, calls } = verifierWith();
    const authorization = `Bearer ${await token('u1')}`;
    const first = await verifier.verify(authorization);
    assert.equal(calls.current, 1);
    assert.equal(verifier.lookup(authorization), first);
    assert.equal(await verifier.verify(authorization), first);
    assert.equal(calls.current, 1);
    assert.equal(first.rateLimitKey, 'user:u1');
    assert.deepEqual(signer.verify(first.identity), {
      kind: 'user',
      sub: 'u1',
      role: 'customer',
      exp: NOW / 1000 + 600,
    });
  });

  it('when the cache is full, then the oldest token is forgotten first', async () => {
    const { verifier } = verifierWith({ cacheSize: 2 });
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map(async (sub) => `Bearer ${await token(sub)}`));
    await verifier.verify(a!);
    await verifier.verify(b!);
    await verifier.verify(c!);
    assert.equal(verifier.lookup(a!), undefined);
    assert.equal(verifier.lookup(b!)?.userId, 'b');
    assert.equal(verifier.lookup(c!)?.userId, 'c');
  });

  it('when a cached token reaches its exp, then the lookup misses and verifying refuses it', async () => {
    let now = NOW;
    const { verifier } = verifierWith({ now: () => now });
    const authorization = `Bearer ${await token('u1', NOW / 1000 + 10)}`;
    await verifier.verify(authorization);
    now = NOW + 10_000;
    assert.equal(verifier.lookup(authorization), undefined);
    await assert.rejects(verifier.verify(authorization), (error: unknown) => {
      assert.ok(error instanceof ProblemError);
      assert.equal(error.status, 401);
      return true;
    });
  });
});

describe('key set cache', () => {
  it('when many requests need keys at once, then one fetch serves them all', async () => {
    let fetches = 0;
    const cache = new JwksCache({
      fetch: async () => {
        fetches++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        return jwks;
      },
      clock: () => NOW,
      settings: () => ({ jwksRefetchCooldownMs: 30_000, jwksMaxAgeMs: 600_000 }),
      onRefreshError: () => {},
    });
    await Promise.all([cache.current(), cache.current(), cache.ready()]);
    assert.equal(fetches, 1);
  });

  it('when keys are asked for again within the cooldown, then no refetch; after it, one; when stale, a background one', async () => {
    let now = NOW;
    let fetches = 0;
    const cache = new JwksCache({
      fetch: async () => {
        fetches++;
        return jwks;
      },
      clock: () => now,
      settings: () => ({ jwksRefetchCooldownMs: 30_000, jwksMaxAgeMs: 600_000 }),
      onRefreshError: () => {},
    });
    await cache.current();
    assert.equal(await cache.refreshForUnknownKey(), undefined);
    now += 30_000;
    assert.notEqual(await cache.refreshForUnknownKey(), undefined);
    assert.equal(await cache.refreshForUnknownKey(), undefined);
    assert.equal(fetches, 2);
    now += 600_001;
    await cache.current();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(fetches, 3);
  });

  it('when a refetch fails, then it is reported and the caller gets no keys', async () => {
    let now = NOW;
    const reported: unknown[] = [];
    let fail = false;
    const cache = new JwksCache({
      fetch: async () => {
        if (fail) throw new Error('users is down');
        return jwks;
      },
      clock: () => now,
      settings: () => ({ jwksRefetchCooldownMs: 1000, jwksMaxAgeMs: 600_000 }),
      onRefreshError: (error) => reported.push(error),
    });
    await cache.current();
    fail = true;
    now += 1000;
    assert.equal(await cache.refreshForUnknownKey(), undefined);
    assert.equal(reported.length, 1);
    assert.ok(await cache.current());
  });
});
