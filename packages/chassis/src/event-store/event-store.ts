// An append-only event store in the service's database: a stream's events carry consecutive versions, and
// appending with an expected version is optimistic concurrency — two writers of one stream cannot both win.
import { isUniqueViolation, type Queryable } from '../db.ts';

export interface NewEvent<T = unknown> {
  type: string;
  data: T;
  metadata?: Record<string, unknown>;
}

export interface StoredEvent<T = unknown> {
  streamId: string;
  version: number;
  type: string;
  data: T;
  metadata: Record<string, unknown>;
  recordedAt: Date;
  /** Global order of all events in this store. */
  position: number;
}

export class ConcurrencyError extends Error {
  override name = 'ConcurrencyError';
  readonly streamId: string;
  readonly expectedVersion: number;

  constructor(streamId: string, expectedVersion: number) {
    super(`stream ${streamId} is no longer at version ${expectedVersion}`);
    this.streamId = streamId;
    this.expectedVersion = expectedVersion;
  }
}

interface EventRow {
  stream_id: string;
  version: number;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
  recorded_at: Date;
  position: number;
}

const toStored = <T>(row: EventRow): StoredEvent<T> => ({
  streamId: row.stream_id,
  version: row.version,
  type: row.type,
  data: row.data as T,
  metadata: row.metadata,
  recordedAt: row.recorded_at,
  position: row.position,
});

export const eventStore = {
  /**
   * Appends `events` after `expectedVersion` (0 for a new stream) in the caller's transaction and returns
   * the stream's new version. Throws ConcurrencyError when another writer got there first.
   */
  async append(
    tx: Queryable,
    streamId: string,
    expectedVersion: number,
    events: readonly NewEvent[],
  ): Promise<number> {
    if (events.length === 0) return expectedVersion;
    const { rows } = await tx.query<{ version: number | null }>(
      'SELECT max(version) AS version FROM event_store WHERE stream_id = $1',
      [streamId],
    );
    if ((rows[0]?.version ?? 0) !== expectedVersion) throw new ConcurrencyError(streamId, expectedVersion);
    try {
      await tx.query(
        `INSERT INTO event_store (stream_id, version, type, data, metadata)
         SELECT $1, $2 + e.n, e.event->>'type', e.event->'data', e.event->'metadata'
         FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS e(event, n)`,
        [
          streamId,
          expectedVersion,
          JSON.stringify(events.map((e) => ({ type: e.type, data: e.data, metadata: e.metadata ?? {} }))),
        ],
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConcurrencyError(streamId, expectedVersion);
      throw error;
    }
    return expectedVersion + events.length;
  },

  async readStream<T = unknown>(db: Queryable, streamId: string): Promise<StoredEvent<T>[]> {
    const { rows } = await db.query<EventRow>(
      'SELECT * FROM event_store WHERE stream_id = $1 ORDER BY version',
      [streamId],
    );
    return rows.map((row) => toStored<T>(row));
  },

  /** Every event after `position`, in global order: what a projection catches up from. */
  async readAll<T = unknown>(db: Queryable, afterPosition = 0, limit = 1000): Promise<StoredEvent<T>[]> {
    const { rows } = await db.query<EventRow>(
      'SELECT * FROM event_store WHERE position > $1 ORDER BY position LIMIT $2',
      [afterPosition, limit],
    );
    return rows.map((row) => toStored<T>(row));
  },
};

/** The event store's tables: pass to createService's `migrations` before the service's own. */
export const EVENT_STORE_MIGRATIONS = new URL('./migrations/', import.meta.url);
