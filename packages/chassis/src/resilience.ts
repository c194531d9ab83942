// Outbound calls: every upstream gets a keep-alive pool per instance, client-side balancing across its
// instances, and a policy of bulkhead, retry with exponential backoff and jitter, circuit breaker and timeout
// (cockatiel), configured per upstream and hot-reloadable.
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  CircuitState,
  ConsecutiveBreaker,
  TaskCancelledError,
  TimeoutStrategy,
  bulkhead,
  circuitBreaker,
  handleWhen,
  retry,
  timeout,
  wrap,
  type ICancellationContext,
  type IDefaultPolicyContext,
  type IPolicy,
} from 'cockatiel';
import { backoffSchedule } from '@souk/kit';
import Type, { type Static } from 'typebox';
import { Pool, type Dispatcher } from 'undici';
import { NoInstanceError, type Registry, type ServiceInstance } from './registry/index.ts';
import { SpanKind, SpanStatusCode, inSpan, traceHeaders } from './tracing/tracer.ts';

export const ResiliencePolicy = Type.Object(
  {
    timeoutMs: Type.Integer({ minimum: 1, default: 5000 }),
    retries: Type.Integer({ minimum: 0, maximum: 10, default: 2 }),
    retryBaseDelayMs: Type.Integer({ minimum: 1, default: 50 }),
    breaker: Type.Object(
      {
        consecutiveFailures: Type.Integer({ minimum: 1, default: 5 }),
        halfOpenAfterMs: Type.Integer({ minimum: 1, default: 5000 }),
      },
      { default: {} },
    ),
    bulkhead: Type.Object(
      {
        limit: Type.Integer({ minimum: 1, default: 128 }),
        queue: Type.Integer({ minimum: 0, default: 512 }),
      },
      { default: {} },
    ),
  },
  { default: {} },
);
export type ResiliencePolicy = Static<typeof ResiliencePolicy>;

export interface UpstreamRequest {
  method: Dispatcher.HttpMethod;
  path: string;
  headers?: Record<string, string | string[] | undefined>;
  body?: Buffer | string;
  /** Safe to send twice: GET/HEAD always are; a mutating call is when it carries an idempotency key. */
  idempotent?: boolean;
  /** Overrides the policy's timeout for this call (a gateway route's own timeout). */
  timeoutMs?: number;
  retries?: number;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Why an upstream call produced no response; the gateway maps each to a problem. */
export class UpstreamUnavailableError extends Error {
  override name = 'UpstreamUnavailableError';
  readonly upstream: string;
  readonly reason: 'timeout' | 'circuit-open' | 'overloaded' | 'unreachable';

  constructor(upstream: string, reason: UpstreamUnavailableError['reason'], options?: ErrorOptions) {
    super(`${upstream} is ${reason}`, options);
    this.upstream = upstream;
    this.reason = reason;
  }
}

/** A 502/503/504 from upstream is worth a retry (when idempotent) and counts against the breaker. */
class TransientStatus extends Error {
  readonly response: UpstreamResponse;

  constructor(response: UpstreamResponse) {
    super(`upstream answered ${response.status}`);
    this.response = response;
  }
}

const TRANSIENT_STATUSES = new Set([502, 503, 504]);
const isTransient = (error: unknown) =>
  error instanceof TransientStatus ||
  (error instanceof Error &&
    'code' in error &&
    typeof error.code === 'string' &&
    error.code.startsWith('UND_ERR')) ||
  isConnectError(error);
/** No connection, or one that broke before any answer: says nothing about the request, much about the instance. */
const CONNECT_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const errorCode = (error: unknown) =>
  error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
const isConnectError = (error: unknown) => CONNECT_ERRORS.has(errorCode(error) ?? '');

export interface UpstreamFailure {
  at: string;
  /** `timeout`, `circuit-open`, `overloaded`, `unreachable`, `status 503`, or the error's message. */
  reason: string;
}

const RECENT_FAILURES = 20;
const describeError = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class UpstreamClient {
  readonly name: string;
  readonly #registry: Pick<Registry, 'pick' | 'track' | 'instances'>;
  readonly #pools = new Map<string, Pool>();
  readonly #sweeper: NodeJS.Timeout;
  /** The last few calls that failed, newest last: what an operator looks at beside the breaker's state. */
  readonly #failures: UpstreamFailure[] = [];
  #policy!: {
    breaker: { readonly state: CircuitState };
    breakerAndBulkhead: IPolicy;
    config: ResiliencePolicy;
    composed: Map<string, IPolicy<ICancellationContext & IDefaultPolicyContext>>;
  };

  /**
   * `name` is the service called; `registry` says which of its instances each call goes to. Every `sweepMs`,
   * the pools of instances that left discovery are closed (their calls in flight finish first).
   */
  constructor(
    name: string,
    registry: Pick<Registry, 'pick' | 'track' | 'instances'>,
    policy: ResiliencePolicy,
    options: { sweepMs?: number } = {},
  ) {
    this.name = name;
    this.#registry = registry;
    this.configure(policy);
    this.#sweeper = setInterval(() => this.#closeDeparted(), options.sweepMs ?? 5000).unref();
  }

  /** The instances this client holds a connection pool to. */
  get pooledOrigins(): string[] {
    return [...this.#pools.keys()];
  }

  /** Applies a new policy (hot reload); the breaker starts closed again. */
  configure(config: ResiliencePolicy): void {
    const breaker = circuitBreaker(handleWhen(isTransient), {
      halfOpenAfter: config.breaker.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(config.breaker.consecutiveFailures),
    });
    this.#policy = {
      breaker,
      breakerAndBulkhead: wrap(bulkhead(config.bulkhead.limit, config.bulkhead.queue), breaker),
      config,
      composed: new Map(),
    };
  }

  /** Whether the breaker refuses calls now (open, or half-open while a trial call decides); for metrics. */
  get circuitOpen(): boolean {
    return this.#policy.breaker.state !== CircuitState.Closed;
  }

  /** The breaker's state now: `closed` lets calls through, `open` refuses them, `half-open` tries one. */
  get breakerState(): 'closed' | 'open' | 'half-open' | 'isolated' {
    switch (this.#policy.breaker.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.Open:
        return 'open';
      case CircuitState.HalfOpen:
        return 'half-open';
      case CircuitState.Isolated:
        return 'isolated';
    }
  }

  /** The last calls that failed after their retries (at most 20), newest first. */
  get recentFailures(): readonly UpstreamFailure[] {
    return this.#failures.toReversed();
  }

  #failed(reason: string): void {
    this.#failures.push({ at: new Date().toISOString(), reason });
    if (this.#failures.length > RECENT_FAILURES) this.#failures.shift();
  }

  /** retry → bulkhead → breaker → timeout, built once per (attempts, timeout) pair, not per call. */
  #composedPolicy(
    attempts: number,
    timeoutMs: number,
  ): IPolicy<ICancellationContext & IDefaultPolicyContext> {
    const { config, breakerAndBulkhead, composed } = this.#policy;
    const key = `${attempts}:${timeoutMs}`;
    let policy = composed.get(key);
    if (policy === undefined) {
      policy = wrap(
        retry(handleWhen(isTransient), {
          maxAttempts: attempts,
          backoff: backoffSchedule({ baseDelayMs: config.retryBaseDelayMs, maxDelayMs: 2000 }),
        }),
        breakerAndBulkhead,
        // abortOnReturn would abort (and allocate a DOMException) after every successful call.
        timeout(timeoutMs, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false }),
      );
      composed.set(key, policy);
    }
    return policy;
  }

  async request(call: UpstreamRequest): Promise<UpstreamResponse> {
    const { config } = this.#policy;
    const safe = call.idempotent ?? (call.method === 'GET' || call.method === 'HEAD');
    const attempts = safe ? (call.retries ?? config.retries) : 0;
    const policy = this.#composedPolicy(attempts, call.timeoutMs ?? config.timeoutMs);
    try {
      return await policy.execute(async ({ signal }) => {
        const response = await this.#attempt(call, signal, safe);
        if (TRANSIENT_STATUSES.has(response.status)) throw new TransientStatus(response);
        return response;
      });
    } catch (error) {
      if (error instanceof TransientStatus) {
        this.#failed(`status ${error.response.status}`);
        return error.response;
      }
      const failure = this.#unavailable(error);
      this.#failed(failure instanceof UpstreamUnavailableError ? failure.reason : describeError(error));
      throw failure;
    }
  }

  /** What a failed call is reported as: UpstreamUnavailableError when the upstream could not answer. */
  #unavailable(error: unknown): unknown {
    if (error instanceof TaskCancelledError)
      return new UpstreamUnavailableError(this.name, 'timeout', { cause: error });
    if (error instanceof BrokenCircuitError)
      return new UpstreamUnavailableError(this.name, 'circuit-open', { cause: error });
    if (error instanceof BulkheadRejectedError)
      return new UpstreamUnavailableError(this.name, 'overloaded', { cause: error });
    if (isTransient(error) || error instanceof NoInstanceError)
      return new UpstreamUnavailableError(this.name, 'unreachable', { cause: error });
    return error;
  }

  /** Sends JSON and parses the JSON answer; the caller decides what each status means. */
  async json<T>(
    call: Omit<UpstreamRequest, 'body'> & { body?: unknown },
  ): Promise<{ status: number; body: T }> {
    const response = await this.request({
      ...call,
      headers: { 'content-type': 'application/json', accept: 'application/json', ...call.headers },
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
    });
    const text = response.body.toString('utf8');
    return { status: response.status, body: (text.length > 0 ? JSON.parse(text) : undefined) as T };
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    await Promise.all([...this.#pools.values()].map((pool) => pool.close()));
    this.#pools.clear();
  }

  #closeDeparted(): void {
    const known = new Set(this.#registry.instances(this.name).map((instance) => instance.url));
    for (const [origin, pool] of this.#pools) {
      if (known.has(origin)) continue;
      this.#pools.delete(origin);
      void pool.close().catch(() => {});
    }
  }

  /**
   * One attempt of the policy: to the instance the balancer picks, then, while connections fail, to the others.
   * Nothing reached a refused instance, so any call may move on; after a reset, only a safe one may.
   */
  async #attempt(call: UpstreamRequest, signal: AbortSignal, safe: boolean): Promise<UpstreamResponse> {
    const tried = new Set<string>();
    let instance: ServiceInstance = this.#registry.pick(this.name);
    for (;;) {
      tried.add(instance.id);
      const done = this.#registry.track(instance);
      try {
        const response = await this.#send(instance.url, call, signal);
        done('ok');
        return response;
      } catch (error) {
        const unreachable = isConnectError(error);
        done(unreachable ? 'unreachable' : 'error');
        if (!unreachable || signal.aborted || !(safe || errorCode(error) === 'ECONNREFUSED')) throw error;
        try {
          instance = this.#registry.pick(this.name, tried);
        } catch (noOther) {
          if (noOther instanceof NoInstanceError) throw error;
          throw noOther;
        }
      }
    }
  }

  async #send(origin: string, call: UpstreamRequest, signal: AbortSignal): Promise<UpstreamResponse> {
    let pool = this.#pools.get(origin);
    if (pool === undefined) {
      pool = new Pool(origin, { connections: 128, keepAliveTimeout: 10_000 });
      this.#pools.set(origin, pool);
    }
    // Each request sent is a CLIENT span, whose `traceparent` the callee continues.
    return inSpan(
      call.method,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': call.method,
          'peer.service': this.name,
          'url.full': `${origin}${call.path}`,
        },
      },
      async (span) => {
        const response = await exchange(
          pool,
          {
            method: call.method,
            path: call.path,
            headers: { ...call.headers, ...traceHeaders() },
            body: call.body,
          },
          signal,
        );
        span.setAttribute('http.response.status_code', response.status);
        if (response.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
        return response;
      },
    );
  }
}

/**
 * One request and its whole answer, through undici's dispatch handler: the answer's chunks are collected as
 * they come, without the stream, promise and copy `pool.request()` and `body.arrayBuffer()` add to each call.
 * An abort of `signal` (the policy's timeout) aborts the request.
 */
function exchange(
  pool: Pool,
  options: Dispatcher.DispatchOptions,
  signal: AbortSignal,
): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    let status = 0;
    let headers: UpstreamResponse['headers'] = {};
    const chunks: Buffer[] = [];
    // An abort may come while the request still waits for a connection: it is then aborted as it starts.
    let started: Dispatcher.DispatchController | undefined;
    const abort = () => started?.abort(signal.reason as Error);
    signal.addEventListener('abort', abort, { once: true });
    const settle = () => signal.removeEventListener('abort', abort);
    pool.dispatch(options, {
      onRequestStart(controller) {
        started = controller;
        if (signal.aborted) controller.abort(signal.reason as Error);
      },
      onResponseStart(_controller, statusCode, responseHeaders) {
        status = statusCode;
        headers = responseHeaders;
      },
      onResponseData(_controller, chunk) {
        chunks.push(chunk);
      },
      onResponseEnd() {
        settle();
        resolve({ status, headers, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) });
      },
      onResponseError(_controller, error) {
        settle();
        reject(error);
      },
    });
  });
}
