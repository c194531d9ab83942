// The route table: which service answers a public path, with which methods, timeout and retries. Compiled once
// per configuration so that answering a request is a few string comparisons and allocates nothing.

export interface RouteDefinition<S extends string = string> {
  /** A path prefix matched on whole segments: `/api/users` matches `/api/users/me`, not `/api/usersX`. */
  prefix: string;
  service: S;
  methods: readonly string[];
  /** Per attempt, as the upstream client applies it. */
  timeoutMs: number;
  /** Used only for requests safe to repeat (GET, HEAD, or carrying an Idempotency-Key). */
  retries: number;
}

export interface CompiledRoute<S extends string = string> {
  readonly prefix: string;
  readonly service: S;
  readonly methods: ReadonlySet<string>;
  /** The value of the `Allow` header when this route answers 405. */
  readonly allow: string;
  readonly timeoutMs: number;
  readonly retries: number;
}

export type RouteResolution<S extends string = string> =
  | { readonly outcome: 'proxy'; readonly route: CompiledRoute<S> }
  | { readonly outcome: 'method-not-allowed'; readonly route: CompiledRoute<S> }
  | { readonly outcome: 'not-found' };

/** Endpoints between services live under this prefix; the gateway never routes it, whatever the config says. */
export const INTERNAL_PREFIX = '/internal';

const NOT_FOUND: RouteResolution<never> = Object.freeze({ outcome: 'not-found' });
const SLASH = 0x2f;
const DOT = 0x2e;
const PERCENT = 0x25;

interface Entry<S extends string> {
  readonly prefix: string;
  readonly methods: ReadonlySet<string>;
  // Both answers are built once, so resolving a request returns a shared object instead of a new one.
  readonly proxy: RouteResolution<S>;
  readonly methodNotAllowed: RouteResolution<S>;
}

export class RouteTable<S extends string = string> {
  readonly routes: readonly CompiledRoute<S>[];
  readonly #entries: readonly Entry<S>[];

  constructor(routes: readonly CompiledRoute<S>[]) {
    this.routes = routes;
    this.#entries = routes.map((route) => ({
      prefix: route.prefix,
      methods: route.methods,
      proxy: Object.freeze({ outcome: 'proxy', route }),
      methodNotAllowed: Object.freeze({ outcome: 'method-not-allowed', route }),
    }));
  }

  /** What to do with `method url`, where `url` is the request target as received (path and query). */
  resolve(method: string, url: string): RouteResolution<S> {
    const query = url.indexOf('?');
    const end = query === -1 ? url.length : query;
    if (!isRoutablePath(url, end)) return NOT_FOUND;
    // Entries are sorted longest prefix first, so the first match is the most specific one.
    for (const entry of this.#entries) {
      const length = entry.prefix.length;
      if (length > end || !url.startsWith(entry.prefix)) continue;
      if (length === end || url.charCodeAt(length) === SLASH) {
        return entry.methods.has(method) ? entry.proxy : entry.methodNotAllowed;
      }
    }
    return NOT_FOUND;
  }
}

/** Validates the definitions and orders them for matching; throws on a table the gateway must not serve. */
export function compileRouteTable<S extends string>(
  definitions: readonly RouteDefinition<S>[],
): RouteTable<S> {
  const seen = new Set<string>();
  const routes = definitions.map((definition): CompiledRoute<S> => {
    const { prefix } = definition;
    if (!/^(\/[^/?#\s]+)+$/.test(prefix) || !isRoutablePath(prefix, prefix.length)) {
      throw new Error(`route prefix '${prefix}' must be an absolute path without a trailing slash`);
    }
    if (isUnder(prefix, prefix.length, INTERNAL_PREFIX)) {
      throw new Error(`route prefix '${prefix}' is internal; the gateway never routes ${INTERNAL_PREFIX}`);
    }
    if (seen.has(prefix)) throw new Error(`route prefix '${prefix}' is listed twice`);
    seen.add(prefix);
    if (definition.methods.length === 0) throw new Error(`route '${prefix}' allows no method`);
    const methods = new Set(definition.methods.map((method) => method.toUpperCase()));
    // HEAD is a GET without the body; every upstream answers it where it answers GET.
    if (methods.has('GET')) methods.add('HEAD');
    return {
      prefix,
      service: definition.service,
      methods,
      allow: [...methods].join(', '),
      timeoutMs: definition.timeoutMs,
      retries: definition.retries,
    };
  });
  routes.sort((a, b) => b.prefix.length - a.prefix.length);
  return new RouteTable(routes);
}

/**
 * The request target with its path normalised as RFC 3986 §6.2.2 says: percent-encoded unreserved characters
 * decoded (`/api/auth/%6cogin` is `/api/auth/login`), other escapes in upper case; the query is left as sent.
 * Routes, rate-limit buckets and the upstream all see this one spelling.
 */
export function normalizeTarget(url: string): string {
  const query = url.indexOf('?');
  const end = query === -1 ? url.length : query;
  const first = url.indexOf('%');
  if (first === -1 || first >= end) return url;
  let path = url.slice(0, first);
  for (let i = first; i < end; i++) {
    const char = url[i]!;
    const hex = char === '%' ? url.slice(i + 1, i + 3) : '';
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) {
      path += char;
      continue;
    }
    const decoded = String.fromCharCode(Number.parseInt(hex, 16));
    path += /^[A-Za-z0-9._~-]$/.test(decoded) ? decoded : `%${hex.toUpperCase()}`;
    i += 2;
  }
  return path + url.slice(end);
}

/**
 * A path the gateway is willing to route: absolute, not internal, with no empty segment (`//`) and no dot
 * segment (`.`, `..`, or their percent-encoded forms), so an upstream that normalises paths cannot be walked
 * out of the prefix that was matched here. A trailing slash is allowed.
 */
export function isRoutablePath(url: string, end: number): boolean {
  if (end === 0 || url.charCodeAt(0) !== SLASH) return false;
  if (isUnder(url, end, INTERNAL_PREFIX)) return false;
  let start = 1;
  for (let i = 1; i <= end; i++) {
    if (i < end && url.charCodeAt(i) !== SLASH) continue;
    if (i === start && i < end) return false;
    if (isDotSegment(url, start, i)) return false;
    start = i + 1;
  }
  return true;
}

function isUnder(url: string, end: number, prefix: string): boolean {
  return (
    url.startsWith(prefix) &&
    (end === prefix.length || (end > prefix.length && url.charCodeAt(prefix.length) === SLASH))
  );
}

function isDotSegment(url: string, start: number, end: number): boolean {
  let dots = 0;
  for (let i = start; i < end;) {
    const code = url.charCodeAt(i);
    if (code === DOT) {
      dots++;
      i++;
    } else if (
      code === PERCENT &&
      url.charCodeAt(i + 1) === 0x32 &&
      (url.charCodeAt(i + 2) | 0x20) === 0x65 &&
      i + 2 < end
    ) {
      dots++;
      i += 3;
    } else {
      return false;
    }
  }
  return dots === 1 || dots === 2;
}
