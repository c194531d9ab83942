// The HTTP side of idempotency keys: the key comes from the `Idempotency-Key` header; an answer goes out with the
// same status and body whether it is fresh or replayed, and a replay says so in `Idempotent-Replayed`.
import { parseIdempotencyKey, type Reply } from '@souk/kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { badRequest, orProblem, rejectionProblem } from '../errors.ts';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const REPLAYED_HEADER = 'idempotent-replayed';

/** For the OpenAPI document; `idempotencyKeyOf` reads and checks the key, so that its absence has its own code. */
export const IdempotencyKeyHeader = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ description: 'Required: one key per logical request, reused on every retry of it.' }),
  ),
});

export const idempotencyKeyOf = (request: FastifyRequest): string =>
  orProblem(parseIdempotencyKey(idempotencyKeyHeader(request)));

/** The `Idempotency-Key` header as sent. Node joins repeated copies into one value ("a, b"), so repeats are
 * counted in the raw headers and refused: which copy names the request is anyone's guess. */
export function idempotencyKeyHeader(request: FastifyRequest): string | undefined {
  const raw = request.raw.rawHeaders;
  let copies = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === IDEMPOTENCY_KEY_HEADER) copies++;
  if (copies > 1) {
    throw badRequest(
      'IDEMPOTENCY_KEY_INVALID',
      `Send one Idempotency-Key header; this request has ${copies}.`,
    );
  }
  const value = request.headers[IDEMPOTENCY_KEY_HEADER];
  return typeof value === 'string' ? value : undefined;
}

/** Sends an accepted answer with its status; throws a refused one as its problem. */
export function sendReply<T>(reply: FastifyReply, { answer, replayed }: Reply<T>): FastifyReply {
  const headers: Record<string, string> = replayed ? { [REPLAYED_HEADER]: 'true' } : {};
  if (!answer.ok) throw rejectionProblem(answer.rejection, headers);
  return reply.headers(headers).status(answer.status).send(answer.value);
}
