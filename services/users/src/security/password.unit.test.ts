import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashPassword, verifyPassword } from './password.ts';

describe('password hashing', () => {
  it('when the same password is given, then it verifies; another does not', async () => {
    const hash = await hashPassword('correct horse battery');
    assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.equal(await verifyPassword('correct horse battery', hash), true);
    assert.equal(await verifyPassword('correct horse batterY', hash), false);
  });

  it('when a password is hashed twice, then the salts differ', async () => {
    assert.notEqual(await hashPassword('same password'), await hashPassword('same password'));
  });

  it('when the stored hash is malformed, then nothing verifies against it', async () => {
    assert.equal(await verifyPassword('x', 'not-a-hash'), false);
  });
});
