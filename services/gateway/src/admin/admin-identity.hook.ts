// The gateway's own admin routes read the caller's identity from the access token, as the services read it from
// the credential the gateway signs: so the chassis' guards (adminsOnly) answer 401 and 403 the same way here.
import type { App, IdentitySigner } from '@souk/chassis';
import type { AccessTokenVerifier } from '../auth/access-token.verifier.ts';

/** The proxy's catch-all route verifies tokens in its own guard; this hook serves the routes the gateway answers. */
const PROXIED = '/*';

export function adminIdentityHook(app: App, verifier: AccessTokenVerifier, signer: IdentitySigner): void {
  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/api/admin/') || request.routeOptions.url === PROXIED) return;
    const authorization = request.headers.authorization;
    if (authorization === undefined) return;
    // An invalid or expired token throws the verifier's 401 problem; a token verified before is not parsed again.
    const caller = await verifier.verify(authorization);
    request.identity = signer.verify(caller.identity);
  });
}
