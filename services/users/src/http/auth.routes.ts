// Tokens: log in with email and password, rotate a refresh token, and the public keys that verify them.
import type { App, Pool } from '@souk/chassis';
import { Login, Problem, Refresh, TokenPair } from '@souk/contracts';
import type { Accounts } from '../accounts.ts';
import { publicKeySet } from '../security/signing-keys.ts';

export function authRoutes(app: App, accounts: Accounts, db: Pool): void {
  app.post(
    '/api/auth/login',
    { schema: { tags: ['auth'], body: Login, response: { 200: TokenPair, 401: Problem, 429: Problem } } },
    async (request, reply) => {
      const pair = await accounts.login(request.body.email, request.body.password);
      return reply.header('cache-control', 'no-store').send(pair);
    },
  );

  app.post(
    '/api/auth/refresh',
    { schema: { tags: ['auth'], body: Refresh, response: { 200: TokenPair, 401: Problem } } },
    async (request, reply) => {
      const pair = await accounts.refresh(request.body.refreshToken);
      return reply.header('cache-control', 'no-store').send(pair);
    },
  );

  app.get('/.well-known/jwks.json', { schema: { tags: ['auth'] } }, async (_request, reply) =>
    reply.header('cache-control', 'public, max-age=300').send(await publicKeySet(db)),
  );
}
