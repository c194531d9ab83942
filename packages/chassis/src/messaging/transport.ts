// The seam between a service and its message broker. The local profile's transport is PostgreSQL (its own
// `bus` database); the distributed profile's is RabbitMQ. Services never see which one they run on.
import type { EventEnvelope } from '@souk/contracts';

export type Envelope = EventEnvelope<string, unknown>;

export interface Subscription {
  /** The subscriber group: one durable queue per group; instances of a group compete for its messages. */
  group: string;
  /** Event types delivered to the group, e.g. `['order.confirmed', 'payment.refunded']`. */
  types: readonly string[];
  /**
   * Handles one message. Resolving acknowledges it; throwing makes the transport retry it with backoff, and
   * after `maxAttempts` deliveries move it to the group's dead-letter queue.
   */
  handle(envelope: Envelope): Promise<void>;
  maxAttempts?: number;
  /** Messages in flight at once for this consumer (the prefetch). */
  concurrency?: number;
}

export interface MessageTransport {
  readonly name: 'postgres' | 'amqp';
  /** Resolves once the broker has durably accepted every envelope (committed, or confirmed by the broker). */
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
  /** Stops consuming (in-flight handlers finish) and closes connections. */
  close(): Promise<void>;
}

/** What a subscription gets when it leaves `maxAttempts` or `concurrency` out. */
export const SUBSCRIPTION_DEFAULTS = { maxAttempts: 5, concurrency: 8 } as const;

/** A subscription with its defaults applied, checked once by every transport. */
export type ResolvedSubscription = Subscription & { maxAttempts: number; concurrency: number };

export function resolveSubscription(subscription: Subscription): ResolvedSubscription {
  const resolved = {
    ...subscription,
    maxAttempts: subscription.maxAttempts ?? SUBSCRIPTION_DEFAULTS.maxAttempts,
    concurrency: subscription.concurrency ?? SUBSCRIPTION_DEFAULTS.concurrency,
  };
  if (!/^[\w.-]+$/.test(resolved.group)) throw new TypeError(`invalid subscriber group '${resolved.group}'`);
  if (resolved.types.length === 0) throw new TypeError(`group '${resolved.group}' subscribes to no type`);
  for (const type of resolved.types)
    if (!/^[\w.-]+$/.test(type)) throw new TypeError(`invalid event type '${type}'`);
  if (!Number.isInteger(resolved.maxAttempts) || resolved.maxAttempts < 1)
    throw new TypeError('maxAttempts must be a positive integer');
  if (!Number.isInteger(resolved.concurrency) || resolved.concurrency < 1)
    throw new TypeError('concurrency must be a positive integer');
  return resolved;
}
