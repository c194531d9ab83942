// Access tokens: short-lived EdDSA JWTs with kid, issuer and audience; refresh tokens: opaque random strings
// whose digests live in the database.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, type Role } from '@souk/contracts';
import type { SigningKey } from './signing-keys.ts';

export interface AccessTokenIssuer {
  readonly ttlSeconds: number;
  issue(user: { id: string; role: Role }): Promise<string>;
}

export function createAccessTokenIssuer(
  key: SigningKey,
  /** Read at each token (a live setting). */
  ttlSeconds: () => number,
  clock: () => Date,
): AccessTokenIssuer {
  return {
    get ttlSeconds() {
      return ttlSeconds();
    },
    async issue(user) {
      const now = Math.floor(clock().getTime() / 1000);
      return new SignJWT({ role: user.role })
        .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'JWT' })
        .setSubject(user.id)
        .setIssuer(ACCESS_TOKEN_ISSUER)
        .setAudience(ACCESS_TOKEN_AUDIENCE)
        .setIssuedAt(now)
        .setExpirationTime(now + ttlSeconds())
        .setJti(randomUUID())
        .sign(key.privateKey);
    },
  };
}

export const newRefreshToken = (): string => randomBytes(32).toString('base64url');

export const refreshTokenDigest = (token: string): Buffer => createHash('sha256').update(token).digest();
