// Who is calling, in a form a client cannot forge: the gateway (for users) or a service (for itself) signs a
// short-lived credential with the internal secret; services accept identity only from this header.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Role } from '@souk/contracts';

export const IDENTITY_HEADER = 'x-souk-identity';

export type Identity =
  { kind: 'user'; sub: string; role: Role; exp: number } | { kind: 'service'; name: string; exp: number };

export type UserIdentity = Extract<Identity, { kind: 'user' }>;
export type ServiceIdentity = Extract<Identity, { kind: 'service' }>;

export interface IdentitySigner {
  sign(identity: Identity): string;
  /** The identity if the credential is authentic and unexpired, otherwise undefined. */
  verify(credential: string): Identity | undefined;
  /** A credential for this service's own outbound calls, renewed before it expires. */
  serviceCredential(name: string): string;
}

export function createIdentitySigner(secret: string, clock: () => number = Date.now): IdentitySigner {
  if (secret.length < 32) throw new Error('internal.secret must be at least 32 characters');
  const mac = (payload: string) => createHmac('sha256', secret).update(payload).digest('base64url');
  const cached = new Map<string, { credential: string; exp: number }>();

  const signer: IdentitySigner = {
    sign(identity) {
      const payload = Buffer.from(JSON.stringify(identity)).toString('base64url');
      return `${payload}.${mac(payload)}`;
    },
    verify(credential) {
      const dot = credential.indexOf('.');
      if (dot <= 0) return undefined;
      const payload = credential.slice(0, dot);
      const given = Buffer.from(credential.slice(dot + 1), 'base64url');
      const expected = Buffer.from(mac(payload), 'base64url');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      let identity: Identity;
      try {
        identity = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Identity;
      } catch {
        return undefined;
      }
      return identity.exp * 1000 > clock() ? identity : undefined;
    },
    serviceCredential(name) {
      const nowSeconds = Math.floor(clock() / 1000);
      const hit = cached.get(name);
      if (hit && hit.exp - 60 > nowSeconds) return hit.credential;
      const exp = nowSeconds + 300;
      const credential = signer.sign({ kind: 'service', name, exp });
      cached.set(name, { credential, exp });
      return credential;
    },
  };
  return signer;
}
