// Errors as RFC 9457 problem details with a stable, per-service code. A client never sees a stack trace.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Problem, type Outcome, type Rejection } from '@souk/contracts';
import { UpstreamUnavailableError } from './resilience.ts';

export class ProblemError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;
  readonly extensions: Record<string, unknown>;

  constructor(
    status: number,
    code: string,
    detail: string,
    options: { headers?: Record<string, string>; extensions?: Record<string, unknown> } = {},
  ) {
    super(detail);
    this.name = 'ProblemError';
    this.status = status;
    this.code = code;
    this.headers = options.headers ?? {};
    this.extensions = options.extensions ?? {};
  }
}

export const badRequest = (code: string, detail: string) => new ProblemError(400, code, detail);
export const unauthorized = (detail = 'A valid access token is required.') =>
  new ProblemError(401, 'UNAUTHORIZED', detail, { headers: { 'www-authenticate': 'Bearer' } });
export const forbidden = (detail = 'Your role does not allow this.') =>
  new ProblemError(403, 'FORBIDDEN', detail);
export const notFound = (code: string, detail: string) => new ProblemError(404, code, detail);
export const conflict = (code: string, detail: string) => new ProblemError(409, code, detail);

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  instance?: string;
  requestId?: string;
  [extension: string]: unknown;
}

export function problemBody(
  status: number,
  code: string,
  detail: string | undefined,
  instance?: string,
  requestId?: string,
): ProblemBody {
  return {
    type: `urn:souk:problem:${code.toLowerCase().replaceAll('_', '-')}`,
    title: TITLES[status] ?? 'Error',
    status,
    code,
    ...(detail === undefined ? {} : { detail }),
    ...(instance === undefined ? {} : { instance }),
    ...(requestId === undefined ? {} : { requestId }),
  };
}

/** Fastify's own error codes for malformed requests, mapped to the problem a client should see. */
const FASTIFY_CLIENT_ERRORS: Record<string, { status: number; code: string; detail: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    code: 'BODY_TOO_LARGE',
    detail: 'The request body exceeds 1 MiB.',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    detail: 'Send the body as application/json.',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'EMPTY_BODY', detail: 'The JSON body is empty.' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: 'INVALID_CONTENT_LENGTH',
    detail: 'Content-Length does not match the body.',
  },
};

/** Sends a problem as the answer to `request`. */
function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  code: string,
  detail: string,
  extensions: Record<string, unknown> = {},
): FastifyReply {
  // Fastify closes the connection after an error while the body was still arriving; let the client finish
  // sending first, or it sees a reset instead of this answer.
  if (reply.getHeader('connection') === 'close' && !request.raw.complete) lingerBeforeClosing(request.raw);
  return reply
    .status(status)
    .type('application/problem+json')
    .send({ ...problemBody(status, code, detail, request.url, request.id), ...extensions });
}

export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const send = (status: number, code: string, detail: string, extensions: Record<string, unknown> = {}) =>
      sendProblem(request, reply, status, code, detail, extensions);

    if (error instanceof ProblemError) {
      void reply.headers(error.headers);
      return send(error.status, error.code, error.message, error.extensions);
    }
    if (error.validation) {
      const errors = error.validation.map((issue) => ({
        field: `${error.validationContext ?? 'body'}${issue.instancePath}`.replaceAll('/', '.'),
        message: describeIssue(issue),
      }));
      return send(400, 'VALIDATION_FAILED', errors.map((e) => `${e.field}: ${e.message}`).join('; '), {
        errors,
      });
    }
    const known = error.code === undefined ? undefined : FASTIFY_CLIENT_ERRORS[error.code];
    if (known) return send(known.status, known.code, known.detail);
    if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
      return send(400, 'MALFORMED_JSON', 'The body is not valid JSON.');
    }
    if (error instanceof UpstreamUnavailableError) {
      // A dependency is down or overloaded: the client may retry, and nothing about it is the client's fault.
      request.log.warn({ upstream: error.upstream, reason: error.reason }, 'dependency unavailable');
      void reply.header('retry-after', '1');
      return send(
        503,
        'DEPENDENCY_UNAVAILABLE',
        `A service this request needs is ${error.reason}; try again shortly.`,
      );
    }
    if (error.statusCode === 429) {
      return send(429, 'RATE_LIMITED', error.message);
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return send(error.statusCode, 'BAD_REQUEST', error.message);
    }
    request.log.error({ err: error }, 'unhandled error');
    return send(
      500,
      'INTERNAL',
      'Something went wrong on our side; the request id identifies it in our logs.',
    );
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, 404, 'ROUTE_NOT_FOUND', `No route ${request.method} ${request.url}.`),
  );
}

/** Fastify's `frameworkErrors`: a path it cannot route at all, answered as a problem like any other. */
export function answerFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  if (error.code === 'FST_ERR_BAD_URL') {
    void sendProblem(request, reply, 400, 'INVALID_PATH', 'The path is not valid percent-encoded UTF-8.');
  } else if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void sendProblem(request, reply, 414, 'PATH_TOO_LONG', 'A segment of the path is over 100 characters.');
  } else {
    request.log.error({ err: error }, 'routing failed');
    void sendProblem(request, reply, 500, 'INTERNAL', 'The request could not be routed.');
  }
}

/** What the HTTP parser refused, by Node's error code; anything else is a plain malformed request. */
const PARSER_ERRORS: Record<string, { status: number; code: string; detail: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    code: 'HEADERS_TOO_LARGE',
    detail: 'The request headers are larger than the server accepts.',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    code: 'REQUEST_TIMEOUT',
    detail: 'The request did not arrive in time.',
  },
  HPE_INVALID_METHOD: {
    status: 400,
    code: 'MALFORMED_REQUEST',
    detail: 'The request method is not one HTTP defines.',
  },
  HPE_UNEXPECTED_CONTENT_LENGTH: {
    status: 400,
    code: 'MALFORMED_REQUEST',
    detail: 'The request has conflicting Content-Length or Transfer-Encoding headers.',
  },
};
const MALFORMED_REQUEST = {
  status: 400,
  code: 'MALFORMED_REQUEST',
  detail: 'The request is not valid HTTP/1.1.',
};

/**
 * The server's `clientError` listener: a request the HTTP parser refused never reaches Fastify, so its problem
 * is written on the socket by hand, which then lingers before closing.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const { status, code, detail } = (error.code && PARSER_ERRORS[error.code]) || MALFORMED_REQUEST;
  const body = JSON.stringify(problemBody(status, code, detail));
  socket.end(
    `HTTP/1.1 ${status} ${TITLES[status]}\r\ncontent-type: application/problem+json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
  lingerOnSocket(socket);
}

/** How long, and how much, a client may still send after an early answer, before its connection is closed. */
const LINGER = { ms: 10_000, bytes: 64 * 1024 * 1024 };

/**
 * nginx's lingering close: after an answer sent before the request ended, keep reading and discarding what the
 * client still sends, within LINGER, then close. Closing a socket with unread data makes the kernel reset it,
 * and a client still sending then gets EPIPE instead of the answer.
 */
function lingerBeforeClosing(request: IncomingMessage): void {
  const socket = request.socket;
  let received = 0;
  request.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > LINGER.bytes) socket.destroy();
  });
  request.resume();
  // Node destroys a `connection: close` socket once the answer is written; only end our side instead, and
  // let the socket close when the client ends its own, or when LINGER runs out.
  socket.destroySoon = () => lingerOnSocket(socket);
}

function lingerOnSocket(socket: Duplex): void {
  socket.end();
  socket.resume();
  const timer = setTimeout(() => socket.destroy(), LINGER.ms).unref();
  socket.once('close', () => clearTimeout(timer));
}

function describeIssue(issue: {
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}): string {
  if (issue.keyword === 'additionalProperties')
    return `unknown field '${String(issue.params.additionalProperty)}'`;
  return issue.message ?? issue.keyword;
}

/** A use case's refusal as the problem the client gets. */
export const rejectionProblem = (rejection: Rejection, headers: Record<string, string> = {}): ProblemError =>
  new ProblemError(rejection.status, rejection.code, rejection.detail, {
    headers,
    extensions: { ...rejection.extensions },
  });

/** The value of an accepted outcome; a refused one is thrown as its problem. */
export function orProblem<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw rejectionProblem(outcome.rejection);
  return outcome.value;
}

/** Response schemas for the problems a route may answer, for the OpenAPI document. */
export const problemResponses = <S extends number>(...statuses: S[]) =>
  Object.fromEntries(statuses.map((status) => [status, Problem])) as Record<S, typeof Problem>;
