// The users service's signing keys: Ed25519, kept in its database so every instance and every restart signs
// with the same key and the gateway's cached JWKS stays valid.
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type CryptoKey,
} from 'jose';
import type { Pool } from '@souk/chassis';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
}

export interface PublicKeySet {
  keys: JWK[];
}

const ALGORITHM = 'EdDSA';

/** The newest active key, created first if there is none. Concurrent instances agree on one. */
export async function loadSigningKey(db: Pool): Promise<SigningKey> {
  const existing = await newestKey(db);
  if (existing) return existing;
  const { privateKey, publicKey } = await generateKeyPair(ALGORITHM, { crv: 'Ed25519', extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), alg: ALGORITHM, use: 'sig' };
  const kid = await calculateJwkThumbprint(publicJwk);
  await db.query(
    `INSERT INTO signing_keys (kid, private_jwk, public_jwk) VALUES ($1, $2, $3) ON CONFLICT (kid) DO NOTHING`,
    [kid, await exportJWK(privateKey), { ...publicJwk, kid }],
  );
  const created = await newestKey(db);
  if (!created) throw new Error('signing key was not stored');
  return created;
}

export async function publicKeySet(db: Pool): Promise<PublicKeySet> {
  const { rows } = await db.query<{ public_jwk: JWK }>(
    `SELECT public_jwk FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC`,
  );
  return { keys: rows.map((row) => row.public_jwk) };
}

async function newestKey(db: Pool): Promise<SigningKey | undefined> {
  const { rows } = await db.query<{ kid: string; private_jwk: JWK }>(
    `SELECT kid, private_jwk FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC, kid LIMIT 1`,
  );
  const row = rows[0];
  if (row === undefined) return undefined;
  return { kid: row.kid, privateKey: (await importJWK(row.private_jwk, ALGORITHM)) as CryptoKey };
}
