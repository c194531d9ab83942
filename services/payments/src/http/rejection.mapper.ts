// A refused use case becomes an RFC 9457 problem with the service's stable code.
import { ProblemError } from '@souk/chassis';
import { Problem } from '@souk/contracts';
import type { Outcome, Rejection } from '../domain/payments.errors.ts';

export const toProblem = (rejection: Rejection, headers: Record<string, string> = {}): ProblemError =>
  new ProblemError(rejection.status, rejection.code, rejection.detail, {
    headers,
    extensions: { ...rejection.extensions },
  });

/** The value of an accepted outcome; a refused one is thrown as its problem. */
export function orProblem<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw toProblem(outcome.rejection);
  return outcome.value;
}

/** Response schemas for the problems a route may answer, for the OpenAPI document. */
export const problems = <S extends number>(...statuses: S[]) =>
  Object.fromEntries(statuses.map((status) => [status, Problem])) as Record<S, typeof Problem>;
