// Password hashing with argon2id at OWASP's recommended parameters (19 MiB, 2 passes, 1 lane), stored as a
// PHC string so parameters can be raised later without breaking existing hashes.
import { argon2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const argon2Async = promisify(argon2);

export interface Argon2Parameters {
  memoryKiB: number;
  passes: number;
  parallelism: number;
}

export const OWASP_ARGON2ID: Argon2Parameters = { memoryKiB: 19_456, passes: 2, parallelism: 1 };
const TAG_LENGTH = 32;

export async function hashPassword(password: string, parameters = OWASP_ARGON2ID): Promise<string> {
  const salt = randomBytes(16);
  const tag = await derive(password, salt, parameters);
  const { memoryKiB: m, passes: t, parallelism: p } = parameters;
  return `$argon2id$v=19$m=${m},t=${t},p=${p}$${salt.toString('base64url')}$${tag.toString('base64url')}`;
}

export async function verifyPassword(password: string, phc: string): Promise<boolean> {
  const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([\w-]+)\$([\w-]+)$/.exec(phc);
  if (match === null) return false;
  const [, m, t, p, salt, expected] = match as unknown as [string, string, string, string, string, string];
  const parameters = { memoryKiB: Number(m), passes: Number(t), parallelism: Number(p) };
  const tag = await derive(password, Buffer.from(salt, 'base64url'), parameters);
  const expectedTag = Buffer.from(expected, 'base64url');
  return tag.length === expectedTag.length && timingSafeEqual(tag, expectedTag);
}

async function derive(password: string, salt: Buffer, parameters: Argon2Parameters): Promise<Buffer> {
  return argon2Async('argon2id', {
    message: password,
    nonce: salt,
    memory: parameters.memoryKiB,
    passes: parameters.passes,
    parallelism: parameters.parallelism,
    tagLength: TAG_LENGTH,
  });
}
