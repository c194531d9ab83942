// How the catalog is paged and searched: an opaque keyset cursor over (name, id) and a literal search term.

/** A place in the catalog's order, which is by name, then id. */
export interface CatalogPosition {
  readonly name: string;
  readonly id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export const isUuid = (value: string): boolean => UUID.test(value);

export function encodeCursor(position: CatalogPosition): string {
  return Buffer.from(JSON.stringify([position.name, position.id]), 'utf8').toString('base64url');
}

/** The position a cursor names, or undefined for anything this service did not issue. */
export function decodeCursor(cursor: string): CatalogPosition | undefined {
  if (!BASE64URL.test(cursor)) return undefined;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(decoded) || decoded.length !== 2) return undefined;
  const [name, id] = decoded as unknown[];
  if (typeof name !== 'string' || typeof id !== 'string' || !isUuid(id)) return undefined;
  const position = { name, id };
  // Only the exact bytes we issue are accepted, so a cursor stays opaque rather than a second query language.
  return encodeCursor(position) === cursor ? position : undefined;
}

/**
 * A case-insensitive substring pattern for `ILIKE ... ESCAPE '\'`, with the search term's own `%`, `_` and `\`
 * matched literally; undefined when the term is blank, which means no filter.
 */
export function searchPattern(term: string | undefined): string | undefined {
  const trimmed = term?.trim() ?? '';
  if (trimmed === '') return undefined;
  return `%${trimmed.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
}
