// What every service refuses in a request before its schema is even looked at: text that no database or message
// can hold (a NUL, an unpaired UTF-16 surrogate), and keys that would change what an object inherits.
import { isStorableText } from '@souk/kit';
import { ProblemError } from './errors.ts';

export interface RequestInput {
  readonly params: unknown;
  readonly query: unknown;
  readonly body: unknown;
}

/** Throws a 400 problem naming the first field of the params, query or body that cannot be accepted. */
export function checkInput(request: RequestInput): void {
  // Iterative, so a deeply nested body cannot exhaust the stack.
  const pending: Array<[value: unknown, field: string]> = [
    [request.params, 'params'],
    [request.query, 'query'],
    [request.body, 'body'],
  ];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [value, field] = next;
    if (typeof value === 'string') {
      if (!isStorableText(value)) throw invalidText(field);
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => pending.push([item, `${field}.${index}`]));
    } else if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value)) {
      for (const [key, item] of Object.entries(value)) {
        if (!isStorableText(key)) throw invalidText(`${field} (a key)`);
        if (
          key === '__proto__' ||
          (key === 'constructor' && isObject(item) && Object.hasOwn(item, 'prototype'))
        ) {
          throw forbiddenField(`${field}.${key}`, key);
        }
        pending.push([item, `${field}.${key}`]);
      }
    }
  }
}

const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null;

function invalidText(field: string): ProblemError {
  const message = 'text must not contain a NUL character or an unpaired UTF-16 surrogate';
  return new ProblemError(400, 'INVALID_TEXT', `${field}: ${message}.`, {
    extensions: { errors: [{ field, message }] },
  });
}

function forbiddenField(field: string, key: string): ProblemError {
  const message = `the field '${key}' is refused: it would change what the object inherits`;
  return new ProblemError(400, 'FORBIDDEN_FIELD', `${field}: ${message}.`, {
    extensions: { errors: [{ field, message }] },
  });
}
