// Which headers cross the gateway. Hop-by-hop headers describe one connection, not the message (RFC 9110
// §7.6.1), so they never do; neither does anything a client could use to pose as someone else.
import type { IncomingHttpHeaders } from 'node:http';
import { IDENTITY_HEADER } from '@souk/chassis';

export type HeaderValue = string | string[] | undefined;
export type OutgoingHeaders = Record<string, string | string[]>;

const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'host',
]);

/** Not forwarded upstream beyond the hop-by-hop ones: the token (replaced by the identity credential), the
 * request id (set from request.id), the length (undici derives it from the buffered body), and Expect (the
 * gateway already answered 100-continue; undici refuses the header). */
const REPLACED_ON_REQUEST: ReadonlySet<string> = new Set([
  'authorization',
  'expect',
  'x-request-id',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'content-length',
]);

/** The headers of a client's request as its upstream should see them, before the gateway adds its own. */
export function upstreamRequestHeaders(incoming: IncomingHttpHeaders): OutgoingHeaders {
  const named = connectionOptions(incoming.connection);
  const headers: OutgoingHeaders = {};
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || HOP_BY_HOP.has(name) || REPLACED_ON_REQUEST.has(name)) continue;
    if (isForgeable(name) || name.startsWith('proxy-') || named?.has(name) === true) continue;
    headers[name] = value;
  }
  return headers;
}

/** What the gateway says about the hop it adds: who asked, over what, and (when verified) as whom. */
export interface Hop {
  requestId: string;
  clientIp: string;
  protocol: string;
  /** The signed identity credential of a verified caller. */
  identity: string | undefined;
}

/** The headers a proxied request goes upstream with: the client's, cleaned, plus the gateway's own. */
export function forwardedRequestHeaders(incoming: IncomingHttpHeaders, hop: Hop): OutgoingHeaders {
  const headers = upstreamRequestHeaders(incoming);
  headers['x-request-id'] = hop.requestId;
  headers['x-forwarded-for'] = forwardedFor(incoming['x-forwarded-for'], hop.clientIp);
  headers['x-forwarded-proto'] = hop.protocol;
  if (incoming.host !== undefined) headers['x-forwarded-host'] = incoming.host;
  if (hop.identity !== undefined) headers[IDENTITY_HEADER] = hop.identity;
  return headers;
}

/** Whether an upstream's response header is passed back to the client; `named` comes from
 * `connectionOptions` of the response's own Connection header. */
export function isForwardedResponseHeader(name: string, named: ReadonlySet<string> | undefined): boolean {
  return !HOP_BY_HOP.has(name) && !name.startsWith('proxy-') && named?.has(name) !== true;
}

/** `x-forwarded-for` with the client appended, as every proxy on the way does. */
export function forwardedFor(existing: HeaderValue, clientIp: string): string {
  if (existing === undefined) return clientIp;
  return `${Array.isArray(existing) ? existing.join(', ') : existing}, ${clientIp}`;
}

/** Identity reaches a service only as the gateway's signed credential; a client's copy is never trusted. */
function isForgeable(name: string): boolean {
  return name.startsWith('x-souk-') || name.startsWith('x-user-');
}

/** Extra hop-by-hop headers a sender named in `Connection` (RFC 9110 §7.6.1); usually there are none. */
export function connectionOptions(connection: HeaderValue): ReadonlySet<string> | undefined {
  if (connection === undefined) return undefined;
  const value = Array.isArray(connection) ? connection.join(',') : connection;
  // The two values every client sends carry no extra names; skip the split for them.
  if (value === 'keep-alive' || value === 'close' || value === 'Keep-Alive') return undefined;
  return new Set(value.split(',').map((token) => token.trim().toLowerCase()));
}
