import Type, { type Static } from 'typebox';
import { Role, StrictObject, Uuid } from './common.ts';

export const Email = Type.String({ format: 'email', maxLength: 254 });
/** At least 8 characters (NIST SP 800-63B, OWASP); the upper bound keeps hashing cheap to refuse. */
export const Password = Type.String({ minLength: 8, maxLength: 128 });
export const DisplayName = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });

export const RegisterUser = StrictObject({ email: Email, password: Password, name: DisplayName });
export type RegisterUser = Static<typeof RegisterUser>;

export const UpdateProfile = StrictObject({ name: DisplayName });
export type UpdateProfile = Static<typeof UpdateProfile>;

export const User = Type.Object({ id: Uuid, email: Type.String(), name: Type.String(), role: Role });
export type User = Static<typeof User>;

export const Login = StrictObject({
  email: Type.String({ maxLength: 254 }),
  password: Type.String({ maxLength: 128 }),
});
export type Login = Static<typeof Login>;

export const Refresh = StrictObject({ refreshToken: Type.String({ minLength: 1, maxLength: 512 }) });
export type Refresh = Static<typeof Refresh>;

export const TokenPair = Type.Object({
  accessToken: Type.String(),
  refreshToken: Type.String(),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'seconds until the access token expires' }),
});
export type TokenPair = Static<typeof TokenPair>;

/** Claims of the access tokens the users service signs and the gateway verifies. */
export interface AccessTokenClaims {
  sub: string;
  role: Role;
}
export const ACCESS_TOKEN_ISSUER = 'souk-users';
export const ACCESS_TOKEN_AUDIENCE = 'souk';
