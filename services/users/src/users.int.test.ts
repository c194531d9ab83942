import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER } from '@souk/contracts';
import { createTestDatabase, testEnvironment, type TestDatabase } from '@souk/chassis/testing';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { buildUsers } from './app.ts';
import { pruneSpentRefreshTokens } from './data/refresh-token.repository.ts';
import { loadUsersProto } from './grpc/users.grpc.ts';

type Users = Awaited<ReturnType<typeof buildUsers>>;

describe('users service', () => {
  let database: TestDatabase;
  let users: Users;
  const admin = { email: 'Admin@Souk.test', password: 'admin-password-1' };

  const asUser = (sub: string, role: 'customer' | 'admin' = 'customer') => ({
    'x-souk-identity': users.identity.sign({
      kind: 'user',
      sub,
      role,
      exp: Math.floor(Date.now() / 1000) + 60,
    }),
  });
  const register = (body: Record<string, unknown>) =>
    users.app.inject({ method: 'POST', url: '/api/users', payload: body });
  const login = (email: string, password: string) =>
    users.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password } });

  before(async () => {
    database = await createTestDatabase('users');
    users = await buildUsers({
      env: {
        ...testEnvironment(database.url),
        SOUK__GRPC__PORT: '0',
        SOUK_ADMIN_EMAIL: admin.email,
        SOUK_ADMIN_PASSWORD: admin.password,
      },
    });
    await users.app.ready();
  });

  after(async () => {
    await users.stop();
    await database.drop();
  });

  it('when someone registers, then 201 with a customer profile and no password in it', async () => {
    const response = await register({ email: 'Ada@Example.com', password: 'lovelace-1815', name: 'Ada' });
    assert.equal(response.statusCode, 201);
    const body = response.json();
    assert.deepEqual(Object.keys(body).sort(), ['email', 'id', 'name', 'role']);
    assert.equal(body.role, 'customer');
    assert.equal(body.email, 'Ada@Example.com');
    assert.equal(response.headers.location, `/api/users/${body.id}`);
  });

  it('when someone registers, then user.registered waits in the outbox, written with the account', async () => {
    const { rows } = await users.db.query<{ data: { email: string } }>(
      `SELECT envelope->'data' AS data FROM outbox WHERE type = 'user.registered'`,
    );
    assert.ok(rows.some((row) => row.data.email === 'Ada@Example.com'));
  });

  it('when the email is taken in another case, then 409', async () => {
    const response = await register({
      email: 'ada@EXAMPLE.com',
      password: 'another-password',
      name: 'Ada 2',
    });
    assert.equal(response.statusCode, 409);
    assert.equal(response.json().code, 'EMAIL_TAKEN');
  });

  it('when the body tries to set a role, then 400 and no account is made', async () => {
    const response = await register({
      email: 'mallory@example.com',
      password: 'password-123',
      name: 'M',
      role: 'admin',
    });
    assert.equal(response.statusCode, 400);
    assert.equal((await login('mallory@example.com', 'password-123')).statusCode, 401);
  });

  it('when the email or password is malformed, then 400 names the field', async () => {
    const badEmail = await register({ email: 'not-an-email', password: 'password-123', name: 'X' });
    assert.equal(badEmail.statusCode, 400);
    assert.match(badEmail.json().detail, /email/);
    const shortPassword = await register({ email: 'short@example.com', password: 'short', name: 'X' });
    assert.equal(shortPassword.statusCode, 400);
    assert.match(shortPassword.json().detail, /password/);
  });

  it('when the password is right, then a token pair whose access token verifies against the JWKS', async () => {
    const response = await login('ADA@example.com', 'lovelace-1815');
    assert.equal(response.statusCode, 200);
    const pair = response.json();
    assert.equal(pair.tokenType, 'Bearer');
    assert.equal(pair.expiresIn, 900);
    const jwks = (await users.app.inject({ url: '/.well-known/jwks.json' })).json();
    const { payload, protectedHeader } = await jwtVerify(pair.accessToken, createLocalJWKSet(jwks), {
      issuer: ACCESS_TOKEN_ISSUER,
      audience: ACCESS_TOKEN_AUDIENCE,
      algorithms: ['EdDSA'],
    });
    assert.equal(protectedHeader.kid, jwks.keys[0].kid);
    assert.equal(payload.role, 'customer');
    assert.equal(jwks.keys[0].d, undefined, 'the JWKS must not carry the private key');
  });

  it('when the password is wrong or the user unknown, then the same 401', async () => {
    const wrong = await login('ada@example.com', 'wrong-password');
    const unknown = await login('nobody@example.com', 'wrong-password');
    assert.equal(wrong.statusCode, 401);
    assert.equal(unknown.statusCode, 401);
    assert.deepEqual(
      { ...wrong.json<object>(), requestId: undefined },
      { ...unknown.json<object>(), requestId: undefined },
    );
  });

  it('when an account fails 10 logins in a row, then the next attempt gets 429 with Retry-After, even with the right password', async () => {
    await register({ email: 'target@example.com', password: 'target-password', name: 'T' });
    for (let i = 0; i < 10; i++)
      assert.equal((await login('target@example.com', `guess-${i}-xxxx`)).statusCode, 401);
    const locked = await login('target@example.com', 'target-password');
    assert.equal(locked.statusCode, 429);
    assert.ok(Number(locked.headers['retry-after']) > 0);
    assert.equal(
      (await login('ada@example.com', 'lovelace-1815')).statusCode,
      200,
      'other accounts are unaffected',
    );
  });

  it('when a refresh token is used, then a new pair comes back and the old token stops working', async () => {
    const first = (await login('ada@example.com', 'lovelace-1815')).json();
    const rotated = await users.app.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refreshToken: first.refreshToken },
    });
    assert.equal(rotated.statusCode, 200);
    assert.notEqual(rotated.json().refreshToken, first.refreshToken);
    const replay = await users.app.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refreshToken: first.refreshToken },
    });
    assert.equal(replay.statusCode, 401);
    // The replay revealed a leak: the whole family, including the newest token, is revoked.
    const successor = await users.app.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refreshToken: rotated.json().refreshToken },
    });
    assert.equal(successor.statusCode, 401);
  });

  it('when spent refresh tokens are pruned, then dead families go, and a live family keeps its used tokens so that reuse is still caught', async () => {
    await register({ email: 'prune@example.com', password: 'prune-password-1', name: 'Prune' });
    const pairOf = async () => (await login('prune@example.com', 'prune-password-1')).json();
    const refresh = (refreshToken: string) =>
      users.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken } });
    const live = await pairOf();
    const liveNext = (await refresh(live.refreshToken)).json();
    const dead = await pairOf();
    await refresh(dead.refreshToken);
    const familyOf = async (token: string) =>
      (
        await users.db.query<{ family_id: string }>(
          `SELECT family_id FROM refresh_tokens WHERE token_hash = sha256(convert_to($1, 'UTF8'))`,
          [token],
        )
      ).rows[0]?.family_id;
    const [liveFamily, deadFamily] = [await familyOf(live.refreshToken), await familyOf(dead.refreshToken)];
    assert.ok(liveFamily && deadFamily, 'tokens are stored as their SHA-256');
    // The dead family's last token expired long ago; every token of both families is two days old.
    await users.db.query(
      `UPDATE refresh_tokens SET created_at = created_at - interval '2 days',
         used_at = used_at - interval '2 days',
         expires_at = CASE WHEN family_id = $1 AND used_at IS NULL THEN now() - interval '2 days' ELSE expires_at END
       WHERE family_id = ANY($2)`,
      [deadFamily, [liveFamily, deadFamily]],
    );
    const pruned = await pruneSpentRefreshTokens(users.db, new Date(Date.now() - 86_400_000));
    assert.equal(pruned, 2);
    const { rows } = await users.db.query<{ family_id: string }>(
      'SELECT family_id FROM refresh_tokens WHERE family_id = ANY($1)',
      [[liveFamily, deadFamily]],
    );
    assert.deepEqual(
      rows.map((row) => row.family_id),
      [liveFamily, liveFamily],
    );
    assert.equal((await refresh(live.refreshToken)).statusCode, 401, 'the leaked token is caught');
    assert.equal((await refresh(liveNext.refreshToken)).statusCode, 401, 'and its family revoked');
  });

  it('when one refresh token is raced, then exactly one request wins', async () => {
    const pair = (await login('ada@example.com', 'lovelace-1815')).json();
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        users.app.inject({
          method: 'POST',
          url: '/api/auth/refresh',
          payload: { refreshToken: pair.refreshToken },
        }),
      ),
    );
    assert.equal(results.filter((r) => r.statusCode === 200).length, 1);
  });

  it('me: 401 without identity; read and rename with one; email and role cannot be changed', async () => {
    const ada = (
      await register({ email: 'grace@example.com', password: 'hopper-1906', name: 'Grace' })
    ).json();
    assert.equal((await users.app.inject({ url: '/api/users/me' })).statusCode, 401);
    const me = await users.app.inject({ url: '/api/users/me', headers: asUser(ada.id) });
    assert.equal(me.json().email, 'grace@example.com');
    const renamed = await users.app.inject({
      method: 'PATCH',
      url: '/api/users/me',
      headers: asUser(ada.id),
      payload: { name: 'Rear Admiral Hopper' },
    });
    assert.equal(renamed.statusCode, 200);
    assert.equal(renamed.json().name, 'Rear Admiral Hopper');
    for (const payload of [{ role: 'admin' }, { email: 'x@example.com' }, { name: 'ok', role: 'admin' }]) {
      const rejected = await users.app.inject({
        method: 'PATCH',
        url: '/api/users/me',
        headers: asUser(ada.id),
        payload,
      });
      assert.equal(rejected.statusCode, 400);
    }
    assert.equal(
      (await users.app.inject({ url: '/api/users/me', headers: asUser(ada.id) })).json().role,
      'customer',
    );
  });

  it('get by id: yourself 200, another user 404, an admin 200, a malformed id 404', async () => {
    const a = (await register({ email: 'a@example.com', password: 'password-aaa', name: 'A' })).json();
    const b = (await register({ email: 'b@example.com', password: 'password-bbb', name: 'B' })).json();
    assert.equal(
      (await users.app.inject({ url: `/api/users/${a.id}`, headers: asUser(a.id) })).statusCode,
      200,
    );
    assert.equal(
      (await users.app.inject({ url: `/api/users/${b.id}`, headers: asUser(a.id) })).statusCode,
      404,
    );
    assert.equal(
      (await users.app.inject({ url: `/api/users/${b.id}`, headers: asUser('x', 'admin') })).statusCode,
      200,
    );
    assert.equal(
      (await users.app.inject({ url: '/api/users/not-a-uuid', headers: asUser(a.id) })).statusCode,
      404,
    );
  });

  it('when the configured admin logs in, then the token carries the admin role', async () => {
    const pair = (await login('admin@souk.test', admin.password)).json();
    const [, payload] = pair.accessToken.split('.');
    assert.equal(JSON.parse(Buffer.from(payload, 'base64url').toString()).role, 'admin');
  });

  it('gRPC GetUser: a service gets the user; no credential is UNAUTHENTICATED; unknown is NOT_FOUND', async () => {
    const ada = (await login('ada@example.com', 'lovelace-1815')).json();
    const adaId = JSON.parse(Buffer.from(ada.accessToken.split('.')[1], 'base64url').toString()).sub;
    const client = new (loadUsersProto().souk.users.v1.Users)(
      `127.0.0.1:${users.grpcPort}`,
      grpc.credentials.createInsecure(),
    );
    type GetUser = (
      request: { id: string },
      metadata: grpc.Metadata,
      callback: (error: grpc.ServiceError | null, user?: { email: string }) => void,
    ) => void;
    const getUser = (client as unknown as { getUser: GetUser }).getUser.bind(client);
    const call = (id: string, metadata = new grpc.Metadata()) =>
      new Promise<{ error: grpc.ServiceError | null; user?: { email: string } }>((resolve) =>
        getUser({ id }, metadata, (error, user) => resolve({ error, user })),
      );
    const withCredential = new grpc.Metadata();
    withCredential.set('x-souk-identity', users.identity.serviceCredential('orders'));
    assert.equal((await call(adaId, withCredential)).user?.email, 'Ada@Example.com');
    assert.equal((await call(adaId)).error?.code, grpc.status.UNAUTHENTICATED);
    assert.equal(
      (await call('00000000-0000-4000-8000-000000000000', withCredential)).error?.code,
      grpc.status.NOT_FOUND,
    );
    client.close();
  });
});
