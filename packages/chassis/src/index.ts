// @souk/chassis: what every Souk service is built on.
export {
  configSchema,
  createService,
  requestIdOf,
  type App,
  type FrontHandler,
  type Service,
  type ServiceConfig,
  type Worker,
} from './service.ts';
export { SHUTDOWN_DEADLINE_MS, runMain } from './run-main.ts';
export {
  eventStore,
  ConcurrencyError,
  EVENT_STORE_MIGRATIONS,
  type NewEvent,
  type StoredEvent,
} from './event-store/event-store.ts';
export * from './sagas/index.ts';
export { adminsOnly, requireAdmin, requireService, requireUser, servicesOnly, usersOnly } from './auth.ts';
export {
  ProblemError,
  badRequest,
  conflict,
  forbidden,
  notFound,
  orProblem,
  problemBody,
  problemResponses,
  rejectionProblem,
  unauthorized,
  type ProblemBody,
} from './errors.ts';
export {
  createIdentitySigner,
  IDENTITY_HEADER,
  type Identity,
  type IdentitySigner,
  type UserIdentity,
} from './identity.ts';
export {
  createPool,
  isUniqueViolation,
  migrate,
  withTransaction,
  type Pool,
  type Queryable,
  type Transaction,
} from './db.ts';
export {
  ConfigError,
  ConfigConflictError,
  ConfigSourceError,
  LiveConfig,
  configProblems,
  deepMerge,
  diffLines,
  parseConfig,
  parseYamlMapping,
  type ConfigDocument,
  type ConfigHistoryEntry,
  type ConfigLog,
  type ConfigSource,
  type ReloadResult,
} from './config.ts';
export {
  CONFIG_PREFIX,
  EtcdConfigSource,
  YamlFileConfigSource,
  configKey,
  configSourceFor,
  connectEtcd,
  etcdEndpoints,
} from './config-sources/index.ts';
export {
  AddressTable,
  DiscoverySettings,
  DnsRegistry,
  EtcdRegistry,
  NoInstanceError,
  StaticRegistry,
  createRegistry,
  type Registration,
  type Registry,
  type ServiceInstance,
} from './registry/index.ts';
export {
  ResiliencePolicy,
  UpstreamClient,
  UpstreamUnavailableError,
  type UpstreamFailure,
  type UpstreamRequest,
  type UpstreamResponse,
} from './resilience.ts';
export { createLogger, type Logger } from './logger.ts';
export { freePort } from './net.ts';
export {
  backoffDelay,
  backoffSchedule,
  settlesWithin,
  TimeoutError,
  withTimeout,
  type BackoffPolicy,
} from '@souk/kit';
export { RetentionWorker, type RetentionRule } from './retention.ts';
export { NotifiedCache, type NotifiedCacheOptions } from './notified-cache.ts';
export * from './tracing/index.ts';
export { listAdminActions, recordAdminAction, type AdminAction, type AuditEntry } from './admin/audit.ts';
export { adminPath, redacted } from './plugins/admin.ts';
export * from './messaging/index.ts';
export * from './idempotency/index.ts';
