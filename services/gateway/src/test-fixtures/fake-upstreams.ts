// Integration-test stand-ins for the services behind the gateway: real HTTP servers on port 0 that record and
// echo what they receive, a users service publishing a real EdDSA key set, and a gateway wired to them.
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryConfigSource, testEnvironment } from '@souk/chassis/testing';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER } from '@souk/contracts';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { buildGateway, type Gateway } from '../app.ts';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type FakeHandler = (request: ReceivedRequest, response: ServerResponse) => void | Promise<void>;

/** Echoes the request as JSON; `?status=NNN` picks the status. */
export const echo: FakeHandler = (request, response) => {
  const status = Number(new URL(request.url, 'http://x').searchParams.get('status') ?? 200);
  response.writeHead(status, {
    'content-type': 'application/json',
    'x-upstream': 'echo',
    'proxy-authenticate': 'Basic',
  });
  response.end(JSON.stringify({ ...request, body: request.body.toString('utf8') }));
};

export class FakeUpstream {
  readonly received: ReceivedRequest[] = [];
  /** Per path (without query); anything else is echoed. */
  readonly handlers = new Map<string, FakeHandler>();
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<FakeUpstream> {
    const server = createServer();
    const upstream = new FakeUpstream(server);
    server.on('request', (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const received = {
          method: request.method ?? '',
          url: request.url ?? '',
          headers: request.headers,
          body: Buffer.concat(chunks),
        };
        upstream.received.push(received);
        const handler = upstream.handlers.get(received.url.split('?')[0]!) ?? echo;
        Promise.resolve(handler(received, response)).catch(() => response.destroy());
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return upstream;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Requests received for a path, health and key set fetches aside. */
  receivedAt(path: string): ReceivedRequest[] {
    return this.received.filter((request) => request.url.split('?')[0] === path);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }
}

/** A URL where nothing listens. */
export async function deadUrl(): Promise<string> {
  const upstream = await FakeUpstream.start();
  const url = upstream.url;
  await upstream.close();
  return url;
}

export interface TokenClaims {
  sub?: string;
  role?: string;
  exp?: number;
  iss?: string;
  aud?: string;
}

/** The users service's signing keys, as it publishes them at /.well-known/jwks.json. */
export class SigningKeys {
  readonly #keys = new Map<string, { privateKey: CryptoKey; jwk: JWK }>();
  jwksFetches = 0;

  async add(kid: string): Promise<void> {
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' };
    this.#keys.set(kid, { privateKey, jwk });
  }

  /** Serves the public keys the way the users service does, counting fetches. */
  readonly handler: FakeHandler = (_request, response) => {
    this.jwksFetches++;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ keys: [...this.#keys.values()].map((key) => key.jwk) }));
  };

  /** An access token as the users service issues it, with any claim overridden. */
  async token(kid: string, claims: TokenClaims = {}, signWith = kid): Promise<string> {
    const key = this.#keys.get(signWith);
    if (key === undefined) throw new Error(`no key ${signWith}`);
    return new SignJWT({ role: claims.role ?? 'customer' })
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'JWT' })
      .setSubject(claims.sub ?? 'user-1')
      .setIssuer(claims.iss ?? ACCESS_TOKEN_ISSUER)
      .setAudience(claims.aud ?? ACCESS_TOKEN_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(claims.exp ?? Math.floor(Date.now() / 1000) + 900)
      .sign(key.privateKey);
  }
}

export interface TestGateway {
  gateway: Gateway;
  source: MemoryConfigSource;
  /** Merges a change into the config the gateway runs with and waits until it applied it. */
  reconfigure(change: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

/** A gateway routed to the given upstreams, with any extra config; clock defaults to real time. */
export async function startGateway(
  registry: Record<string, string>,
  config: Record<string, unknown> = {},
  clock?: () => number,
): Promise<TestGateway> {
  let current: Record<string, unknown> = { registry, ...config };
  const source = new MemoryConfigSource(current);
  const gateway = await buildGateway({
    env: testEnvironment(),
    configSource: source,
    ...(clock === undefined ? {} : { clock }),
  });
  await gateway.app.ready();
  return {
    gateway,
    source,
    async reconfigure(change) {
      current = { ...current, ...change };
      let stop = () => {};
      const reloaded = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the gateway did not take the new config')), 2000);
        stop = gateway.config.onChange(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      source.set(current);
      await reloaded.finally(stop);
    },
    close: () => gateway.stop(),
  };
}
