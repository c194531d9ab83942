// Structured logs: JSON lines (the supervisor and log shippers read them), pretty when a person watches.
import pino, { type Logger } from 'pino';
import { activeTraceId } from './tracing/tracer.ts';

export type { Logger };

export function createLogger(service: string, level: string): Logger {
  return pino({
    name: service,
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Every line written inside a traced operation names its trace: the trace id of the active span.
    mixin: () => {
      const traceId = activeTraceId();
      return traceId === undefined ? {} : { traceId };
    },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["x-souk-identity"]',
        '*.password',
        '*.refreshToken',
        '*.card',
      ],
      censor: '[redacted]',
    },
    transport: process.stdout.isTTY
      ? { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,service' } }
      : undefined,
  });
}
