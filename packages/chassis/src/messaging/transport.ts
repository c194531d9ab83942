// The seam between a service and its message broker. The local profile's transport is PostgreSQL (its own
// `bus` database); the distributed profile's is RabbitMQ. Services never see which one they run on.
import type { EventEnvelope } from '@souk/contracts';
import { withTimeout } from '@souk/kit';
import { consumeInSpan } from '../tracing/messaging.ts';

export type Envelope = EventEnvelope<string, unknown>;

export interface Subscription {
  /** The subscriber group: one durable queue per group; instances of a group compete for its messages. */
  group: string;
  /** Event types delivered to the group, e.g. `['order.confirmed', 'payment.refunded']`. */
  types: readonly string[];
  /**
   * Handles one message, in the trace of the operation that published it. Resolving acknowledges it; throwing
   * makes the transport retry it with backoff, and after `maxAttempts` deliveries move it to the group's
   * dead-letter queue. `signal` aborts when the handler's time (`timeoutMs`) is up.
   */
  handle(envelope: Envelope, context?: HandlerContext): Promise<void>;
  maxAttempts?: number;
  /** Messages in flight at once for this consumer (the prefetch). */
  concurrency?: number;
  /**
   * A handler still running after this long counts as failed: its signal aborts and the message is retried
   * with backoff (the attempt counts toward dead-lettering), so a hung handler cannot hold a message forever.
   */
  timeoutMs?: number;
}

export interface HandlerContext {
  /** Aborts when the handler ran past its subscription's `timeoutMs`; pass it to I/O that accepts one. */
  signal: AbortSignal;
}

/** A message the broker will never accept as it is (malformed for it, too large): retrying cannot help. */
export class UnpublishableMessageError extends Error {
  override name = 'UnpublishableMessageError';
}

/** Thrown into the delivery when a handler ran past its subscription's `timeoutMs`. */
export class HandlerTimeoutError extends Error {
  override name = 'HandlerTimeoutError';
}

/** A message a group's handler failed on too often, parked in the group's dead letters. */
export interface DeadLetter {
  envelope: Envelope;
  attempts: number;
  /** The handler's last error, where the transport keeps it (RabbitMQ does not). */
  lastError: string | null;
  deadAt: Date | null;
}

export interface MessageTransport {
  readonly name: 'postgres' | 'amqp';
  /**
   * Resolves once the broker has durably accepted every envelope (committed, or confirmed by the broker).
   * Rejects with `UnpublishableMessageError` when the broker refuses them for good, any other error when a
   * retry may succeed.
   */
  publish(envelopes: readonly Envelope[]): Promise<void>;
  /** Declares the group's queue and bindings (durably) and starts consuming. */
  subscribe(subscription: Subscription): Promise<void>;
  /**
   * Prepares the transport (creates its tables, connects; the AMQP transport waits for the broker), so a
   * service finds out at start-up. Optional: publish and subscribe prepare it themselves.
   */
  start?(): Promise<void>;
  /** Throws while the broker is unreachable; for /health/ready. */
  check(): Promise<void>;
  /** Messages of the group in its dead letters now; for the metrics. */
  deadLetterCount(group: string): Promise<number>;
  /** The group's dead letters, oldest first, at most `limit`; for operators. */
  deadLetters(group: string, limit: number): Promise<DeadLetter[]>;
  /**
   * Puts the group's dead letters (all, or those whose envelope id is in `ids`) back in its queue as they were:
   * the same envelope and id, so a consumer's inbox still skips one it has applied. Resolves with the count.
   */
  replayDeadLetters(group: string, ids?: readonly string[]): Promise<number>;
  /** Stops consuming (in-flight handlers finish) and closes connections. */
  close(): Promise<void>;
}

/** What a subscription gets when it leaves `maxAttempts` or `concurrency` out. */
export const SUBSCRIPTION_DEFAULTS = { maxAttempts: 5, concurrency: 8, timeoutMs: 60_000 } as const;

/** A subscription with its defaults applied, checked once by every transport. */
export type ResolvedSubscription = Subscription & {
  maxAttempts: number;
  concurrency: number;
  timeoutMs: number;
};

export function resolveSubscription(subscription: Subscription): ResolvedSubscription {
  const resolved = {
    ...subscription,
    maxAttempts: subscription.maxAttempts ?? SUBSCRIPTION_DEFAULTS.maxAttempts,
    concurrency: subscription.concurrency ?? SUBSCRIPTION_DEFAULTS.concurrency,
    timeoutMs: subscription.timeoutMs ?? SUBSCRIPTION_DEFAULTS.timeoutMs,
  };
  if (!/^[\w.-]+$/.test(resolved.group)) throw new TypeError(`invalid subscriber group '${resolved.group}'`);
  if (resolved.types.length === 0) throw new TypeError(`group '${resolved.group}' subscribes to no type`);
  for (const type of resolved.types)
    if (!/^[\w.-]+$/.test(type)) throw new TypeError(`invalid event type '${type}'`);
  if (!Number.isInteger(resolved.maxAttempts) || resolved.maxAttempts < 1)
    throw new TypeError('maxAttempts must be a positive integer');
  if (!Number.isInteger(resolved.concurrency) || resolved.concurrency < 1)
    throw new TypeError('concurrency must be a positive integer');
  if (!Number.isInteger(resolved.timeoutMs) || resolved.timeoutMs < 1)
    throw new TypeError('timeoutMs must be a positive integer');
  return resolved;
}

/**
 * Runs the subscription's handler for one message as every transport does: as a CONSUMER span continuing the
 * publisher's trace, and rejecting with `HandlerTimeoutError` (its signal aborted) once `timeoutMs` passed. A handler that ignores
 * its signal keeps running, but its message is released for a retry.
 */
export async function runHandler(
  subscription: ResolvedSubscription,
  envelope: Envelope,
  transport?: MessageTransport['name'],
): Promise<void> {
  await withTimeout(
    subscription.timeoutMs,
    (signal) =>
      consumeInSpan(envelope, subscription.group, transport, () => subscription.handle(envelope, { signal })),
    { onTimeout: () => new HandlerTimeoutError(`the handler ran past its ${subscription.timeoutMs} ms`) },
  );
}

/** One envelope as the JSON a broker carries; an envelope that has none (a BigInt, a cycle) is unpublishable. */
export function serialise(envelope: unknown): string {
  try {
    return JSON.stringify(envelope);
  } catch (error) {
    throw new UnpublishableMessageError('the envelope cannot be serialised as JSON', { cause: error });
  }
}
