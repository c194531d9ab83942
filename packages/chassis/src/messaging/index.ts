// Reliable messaging: envelopes, the transactional outbox and its relay, the inbox, and the two transports.
export type { DeadLetter, Envelope, HandlerContext, MessageTransport, Subscription } from './transport.ts';
export { HandlerTimeoutError, SUBSCRIPTION_DEFAULTS, UnpublishableMessageError } from './transport.ts';
export { createEnvelope, type EnvelopeOptions, type UncheckedEventType } from './envelope.ts';
export {
  MESSAGING_MIGRATIONS,
  Outbox,
  OutboxRelay,
  listParked,
  outboxStats,
  pruneSentOutbox,
  releaseParked,
  type ParkedEvent,
  type OutboxAddOptions,
  type OutboxRelayOptions,
  type OutboxStats,
} from './outbox.ts';
export { batchedConsumeOnce, consumeOnce, once, pruneInbox } from './inbox.ts';
export {
  PostgresTransport,
  listDeadLetters,
  redriveDeadLetters,
  type PostgresTransportOptions,
} from './postgres.transport.ts';
export {
  AmqpTransport,
  BrokerUnavailableError,
  amqpTopology,
  deleteAmqpTopology,
  type AmqpTransportOptions,
} from './amqp.transport.ts';
export { createMessaging, type Messaging, type MessagingOptions } from './messaging.ts';
