// A PostgreSQL client whose queries are CLIENT spans (db.* attributes), used by every pool the chassis creates,
// so a service's repositories need no code of their own. A query is traced only inside a recording span: the
// relay's polls, the saga scans and the migrations at start make no traces of their own, and cost nothing.
import pg from 'pg';
import { SpanKind, trace } from '@opentelemetry/api';
import { failSpan, tracer } from './tracer.ts';

type Callback = (error: Error | null, result?: unknown) => void;
type Query = (this: pg.Client, ...args: unknown[]) => unknown;

// eslint-disable-next-line @typescript-eslint/unbound-method -- called with the client as `this`, by apply
const plainQuery = pg.Client.prototype.query as unknown as Query;
/** Long statements (a migration) are cut: the span shows which statement ran, not the whole file. */
const MAX_TEXT = 2000;

export class TracedClient extends pg.Client {}

(TracedClient.prototype as unknown as { query: Query }).query = function tracedQuery(
  this: pg.Client,
  ...args: unknown[]
): unknown {
  const config = args[0] as string | { text?: string; submit?: unknown } | null | undefined;
  const active = trace.getActiveSpan();
  // Submittables (cursors, streams) run across many round trips on their own schedule: left untraced.
  if (
    active?.isRecording() !== true ||
    config == null ||
    (typeof config === 'object' && typeof config.submit === 'function')
  )
    return plainQuery.apply(this, args);

  const text = (typeof config === 'string' ? config : (config.text ?? '')).trim();
  const operation = /^[a-z]+/i.exec(text)?.[0]?.toUpperCase() ?? 'QUERY';
  const span = tracer().startSpan(`${operation} ${this.database ?? ''}`.trim(), {
    kind: SpanKind.CLIENT,
    attributes: {
      'db.system.name': 'postgresql',
      'db.namespace': this.database ?? '',
      'db.operation.name': operation,
      'db.query.text': text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text,
      'server.address': this.host,
      'server.port': this.port,
    },
  });
  const finish = (error: unknown) => {
    if (error) failSpan(span, error);
    span.end();
  };
  const last = args.length - 1;
  if (typeof args[last] === 'function') {
    const callback = args[last] as Callback;
    args[last] = (error: Error | null, result?: unknown) => {
      finish(error);
      callback(error, result);
    };
    return plainQuery.apply(this, args);
  }
  const result = plainQuery.apply(this, args) as Promise<unknown>;
  return result.then(
    (value) => {
      finish(undefined);
      return value;
    },
    (error: unknown) => {
      finish(error);
      throw error;
    },
  );
};
