// The http plugin: the fastify instance with strict validation, problem+json errors, the OpenAPI document,
// trace context, the caller's signed identity and one log line per request.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import { answerClientError, answerFrameworkError, installProblemHandlers, unauthorized } from '../errors.ts';
import { checkInput } from '../input.ts';
import { IDENTITY_HEADER, createIdentitySigner, type Identity, type IdentitySigner } from '../identity.ts';
import type { Logger } from '../logger.ts';
import { traceRequests } from '../tracing/http.ts';

declare module 'fastify' {
  interface FastifyRequest {
    identity: Identity | undefined;
  }
}

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

const BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * A raw node:http handler that sees each request before fastify does, and returns whether it took it. The
 * gateway's proxy takes its plain, hot requests this way; whatever it leaves (or every request while the
 * server closes) goes through fastify as usual.
 */
export type FrontHandler = (request: IncomingMessage, response: ServerResponse) => boolean;

/** The request's id: the caller's `x-request-id` when it is a sane token, else a new one. */
export function requestIdOf(headers: IncomingHttpHeaders): string {
  const given = headers['x-request-id'];
  return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
}

export interface HttpPluginOptions {
  name: string;
  description: string;
  log: Logger;
  /** The secret that signs identities between services. */
  secret: string;
  /** Whether requests may carry a signed identity. The gateway, facing clients, strips it instead. */
  acceptsIdentity: boolean;
}

export async function httpPlugin(
  options: HttpPluginOptions,
): Promise<{ app: App; identity: IdentitySigner; handleFirst: (handler: FrontHandler) => void }> {
  let front: FrontHandler | undefined;
  let closing = false;
  const app = Fastify({
    loggerInstance: options.log,
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    bodyLimit: BODY_LIMIT_BYTES,
    requestIdHeader: false,
    genReqId: (request) => requestIdOf(request.headers),
    // Fastify's own server, as it would make it, with a front handler's turn before fastify's.
    serverFactory: (handler, settings) => {
      const server = createServer(settings.http ?? {}, (request, response) => {
        if (front === undefined || closing || !front(request, response)) handler(request, response);
      });
      // Fastify has filled in its defaults by now.
      const timeouts = settings as {
        keepAliveTimeout: number;
        requestTimeout: number;
        connectionTimeout: number;
      };
      server.keepAliveTimeout = timeouts.keepAliveTimeout;
      server.requestTimeout = timeouts.requestTimeout;
      server.setTimeout(timeouts.connectionTimeout);
      return server;
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Parsed as plain JSON, then refused by name in checkInput, so the client learns which field was refused.
    onProtoPoisoning: 'ignore',
    onConstructorPoisoning: 'ignore',
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  // From here on fastify answers every request (503 while it closes, as return503OnClosing says).
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  installValidation(app);
  installProblemHandlers(app);
  await app.register(swagger, {
    openapi: { info: { title: `souk ${options.name}`, description: options.description, version: '0.1.0' } },
  });
  app.get('/docs/json', { schema: { hide: true } }, async () => app.swagger());

  // First of the hooks, so that everything after it (identity, rate limits, the handler) is in the span.
  traceRequests(app);

  const identity = createIdentitySigner(options.secret);
  app.decorateRequest('identity', undefined);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    const credential = request.headers[IDENTITY_HEADER];
    if (typeof credential !== 'string' || !options.acceptsIdentity) return;
    const verified = identity.verify(credential);
    if (verified === undefined) throw unauthorized('The identity credential is invalid or expired.');
    request.identity = verified;
  });
  app.addHook('onResponse', async (request, reply) => {
    const level = request.url.startsWith('/health') || request.url === '/metrics' ? 'debug' : 'info';
    request.log[level](
      {
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request served',
    );
  });
  return {
    app,
    identity,
    handleFirst: (handler) => {
      front = handler;
    },
  };
}

/** Bodies are validated strictly (no type coercion, unknown fields rejected); params and query strings are
 * strings on the wire, so those are coerced to the declared types. Every route, with a schema or without,
 * first refuses text that cannot be stored and keys that would change a prototype. */
function installValidation(app: App): void {
  app.addHook('preValidation', async (request) => checkInput(request));
  const common = { allErrors: false, useDefaults: true, removeAdditional: false, strict: false } as const;
  const body = new Ajv({ ...common, coerceTypes: false });
  const query = new Ajv({ ...common, coerceTypes: 'array' });
  addFormats.default(body);
  addFormats.default(query);
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? body : query).compile(schema));
}
