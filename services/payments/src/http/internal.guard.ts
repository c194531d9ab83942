// Who may call the internal endpoints: the orders service only. Guards run on request, before the body is read,
// so a caller without the right gets 401/403, never a 400.
import { requireService, servicesOnly } from '@souk/chassis';
import type { FastifyRequest } from 'fastify';

const CALLERS = ['orders'];

export const ordersOnly = servicesOnly(...CALLERS);

/** The calling service's name: idempotency keys are scoped per caller. */
export const callerOf = (request: FastifyRequest): string => requireService(request, ...CALLERS).name;
