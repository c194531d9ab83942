import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compileRouteTable, normalizeTarget, type RouteDefinition } from './route.table.ts';

const route = (prefix: string, service: string, methods: string[]): RouteDefinition => ({
  prefix,
  service,
  methods,
  timeoutMs: 1000,
  retries: 1,
});

const table = compileRouteTable([
  route('/api/users', 'users', ['GET', 'POST', 'PATCH']),
  route('/api/auth', 'users', ['POST']),
  route('/api/auth/admin', 'admin', ['GET']),
  route('/.well-known/jwks.json', 'users', ['GET']),
  route('/api/products', 'inventory', ['GET']),
]);

const serviceFor = (method: string, url: string) => {
  const resolution = table.resolve(method, url);
  return resolution.outcome === 'proxy' ? resolution.route.service : resolution.outcome;
};

describe('route table', () => {
  it('when a path is a prefix or lies under it, then that route answers, query or not', () => {
    assert.equal(serviceFor('GET', '/api/users'), 'users');
    assert.equal(serviceFor('GET', '/api/users/me'), 'users');
    assert.equal(serviceFor('GET', '/api/users/me?fields=name'), 'users');
    assert.equal(serviceFor('GET', '/api/users?x=/internal'), 'users');
    assert.equal(serviceFor('GET', '/api/users/'), 'users');
    assert.equal(serviceFor('GET', '/.well-known/jwks.json'), 'users');
  });

  it('when prefixes nest, then the longest one wins', () => {
    assert.equal(serviceFor('GET', '/api/auth/admin/keys'), 'admin');
    assert.equal(serviceFor('POST', '/api/auth/login'), 'users');
  });

  it('when a path only shares characters with a prefix, then no route matches', () => {
    assert.equal(serviceFor('GET', '/api/usersX'), 'not-found');
    assert.equal(serviceFor('GET', '/api/user'), 'not-found');
    assert.equal(serviceFor('GET', '/api'), 'not-found');
    assert.equal(serviceFor('GET', '/'), 'not-found');
    assert.equal(serviceFor('GET', '/api/products-old/1'), 'not-found');
  });

  it('when the route exists but not for the method, then 405 with the allowed methods; else 404', () => {
    const resolution = table.resolve('DELETE', '/api/users/me');
    assert.equal(resolution.outcome, 'method-not-allowed');
    assert.equal(
      resolution.outcome === 'method-not-allowed' && resolution.route.allow,
      'GET, POST, PATCH, HEAD',
    );
    assert.equal(serviceFor('DELETE', '/api/nothing'), 'not-found');
    assert.equal(serviceFor('GET', '/api/auth/login'), 'method-not-allowed');
  });

  it('when a route allows GET, then it allows HEAD as well', () => {
    assert.equal(serviceFor('HEAD', '/api/products/1'), 'inventory');
    assert.equal(serviceFor('HEAD', '/api/auth/login'), 'method-not-allowed');
  });

  it('when a path is internal, then it is never routed, and no route may be internal', () => {
    assert.equal(serviceFor('GET', '/internal'), 'not-found');
    assert.equal(serviceFor('POST', '/internal/reservations'), 'not-found');
    assert.throws(() => compileRouteTable([route('/internal', 'users', ['GET'])]), /internal/);
    assert.throws(() => compileRouteTable([route('/internal/stock', 'inventory', ['GET'])]), /internal/);
    assert.doesNotThrow(() => compileRouteTable([route('/internals', 'users', ['GET'])]));
  });

  it('when a path has a dot or empty segment, plain or percent-encoded, then no route matches', () => {
    for (const url of [
      '/api/users/../internal/x',
      '/api/users/./me',
      '/api/users/%2e%2e/internal',
      '/api/users/%2E./x',
      '/api/users/.%2e',
      '/api/users//me',
      '//api/users',
      'api/users',
      'http://evil/api/users',
      '',
    ]) {
      assert.equal(serviceFor('GET', url), 'not-found', url);
    }
    assert.equal(serviceFor('GET', '/api/users/.profile'), 'users');
    assert.equal(serviceFor('GET', '/api/users/a..b'), 'users');
    assert.equal(serviceFor('GET', '/api/users/%2e%2e%2e'), 'users');
  });

  it('when a definition is malformed or repeated, then compiling refuses it', () => {
    for (const prefix of ['api/users', '/api/users/', '/', '/api//users', '/api/../internal', '/a?b']) {
      assert.throws(() => compileRouteTable([route(prefix, 'users', ['GET'])]), Error, prefix);
    }
    assert.throws(
      () => compileRouteTable([route('/a', 'users', ['GET']), route('/a', 'orders', ['GET'])]),
      /twice/,
    );
    assert.throws(() => compileRouteTable([route('/a', 'users', [])]), /no method/);
  });

  it('when any table and path are resolved, then the answer is the longest whole-segment prefix', () => {
    const segment = fc.constantFrom('api', 'users', 'user', 'orders', 'me', 'x', 'internal');
    const prefix = fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => `/${parts.join('/')}`);
    const definitions = fc
      .uniqueArray(prefix, { maxLength: 6 })
      .map((prefixes) => prefixes.filter((p) => p !== '/internal' && !p.startsWith('/internal/')));
    const path = fc
      .tuple(fc.array(segment, { maxLength: 5 }), fc.boolean(), fc.boolean())
      .map(([parts, slash, query]) => `/${parts.join('/')}${slash ? '/' : ''}${query ? '?q=/x' : ''}`);
    fc.assert(
      fc.property(definitions, path, fc.constantFrom('GET', 'POST'), (prefixes, url, method) => {
        const compiled = compileRouteTable(prefixes.map((p) => route(p, p, ['GET'])));
        const pathOnly = url.split('?')[0]!;
        const expected =
          pathOnly.startsWith('/internal/') || pathOnly === '/internal' || pathOnly.includes('//')
            ? undefined
            : prefixes
                .filter((p) => pathOnly === p || pathOnly.startsWith(`${p}/`))
                .sort((a, b) => b.length - a.length)[0];
        const resolution = compiled.resolve(method, url);
        if (expected === undefined) return resolution.outcome === 'not-found';
        if (resolution.outcome === 'not-found') return false;
        return (
          resolution.outcome === (method === 'GET' ? 'proxy' : 'method-not-allowed') &&
          resolution.route.service === expected
        );
      }),
    );
  });

  it('when a path percent-encodes unreserved characters, then it normalises to the plain spelling', () => {
    assert.equal(normalizeTarget('/api/auth/%6cogin'), '/api/auth/login');
    assert.equal(normalizeTarget('/api/auth/logi%6E?x=%6c'), '/api/auth/login?x=%6c');
    assert.equal(normalizeTarget('/api/%61%75th/login'), '/api/auth/login');
    assert.equal(normalizeTarget('/a%2fb/%7E%2D%2e%5F/%zz%4'), '/a%2Fb/~-._/%zz%4');
    assert.equal(normalizeTarget('/api/users?q=%41'), '/api/users?q=%41');
    fc.assert(
      fc.property(fc.webPath(), (path) => {
        const once = normalizeTarget(path);
        assert.equal(normalizeTarget(once), once);
        assert.equal(decodeURIComponentSafe(once), decodeURIComponentSafe(path));
      }),
    );
  });

  it('when a request resolves, then the answer is a shared object, not a new one', () => {
    assert.equal(table.resolve('GET', '/api/users/1'), table.resolve('GET', '/api/users/2'));
    assert.equal(table.resolve('PUT', '/api/users/1'), table.resolve('PUT', '/api/users/2'));
  });
});

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
