// Route guards: a route says who may call it; the identity was verified when the request arrived.
import type { FastifyRequest } from 'fastify';
import { forbidden, unauthorized } from './errors.ts';
import type { ServiceIdentity, UserIdentity } from './identity.ts';

export function requireUser(request: FastifyRequest): UserIdentity {
  const identity = request.identity;
  if (identity?.kind !== 'user') throw unauthorized();
  return identity;
}

export function requireAdmin(request: FastifyRequest): UserIdentity {
  const user = requireUser(request);
  if (user.role !== 'admin') throw forbidden('Only an admin may do this.');
  return user;
}

/** Internal endpoints: only another service, never a user, whatever their role. */
export function requireService(request: FastifyRequest, ...allowed: string[]): ServiceIdentity {
  const identity = request.identity;
  if (identity === undefined) throw unauthorized('A service credential is required.');
  if (identity.kind !== 'service' || (allowed.length > 0 && !allowed.includes(identity.name))) {
    throw forbidden('This endpoint is for other Souk services only.');
  }
  return identity;
}

/**
 * Route guards for `onRequest`: they run before the body is read, so a caller without the right gets 401 or
 * 403, never a 400 about a body it had no business sending.
 */
export const usersOnly = async (request: FastifyRequest): Promise<void> => {
  requireUser(request);
};

export const adminsOnly = async (request: FastifyRequest): Promise<void> => {
  requireAdmin(request);
};

export const servicesOnly =
  (...allowed: string[]) =>
  async (request: FastifyRequest): Promise<void> => {
    requireService(request, ...allowed);
  };
