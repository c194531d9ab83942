// How the catalog is paged and searched: an opaque keyset cursor over (name, id) and a literal search term.
import { decodeCursor, encodeCursor, isUuid } from '@souk/kit';

/** A place in the catalog's order, which is by name, then id. */
export interface CatalogPosition {
  readonly name: string;
  readonly id: string;
}

export { isUuid };

export const encodeCatalogCursor = (position: CatalogPosition): string =>
  encodeCursor([position.name, position.id]);

/** The position a cursor names, or undefined for anything this service did not issue. */
export function decodeCatalogCursor(cursor: string): CatalogPosition | undefined {
  const key = decodeCursor(cursor, 2, ([, id]) => isUuid(id!));
  return key && { name: key[0]!, id: key[1]! };
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
