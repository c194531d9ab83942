// What a use case answers, as plain data: a value, or a refusal with a stable code that the HTTP layer turns
// into a problem (RFC 9457). Shared so that every service's domain speaks the same way.
export interface Rejection<Code extends string = string, Status extends number = number> {
  readonly status: Status;
  readonly code: Code;
  readonly detail: string;
  readonly extensions?: Readonly<Record<string, unknown>>;
}

export type Outcome<T, R extends Rejection = Rejection> =
  { ok: true; value: T } | { ok: false; rejection: R };

export const accept = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const refuse = <R extends Rejection>(rejection: R): { ok: false; rejection: R } => ({
  ok: false,
  rejection,
});
