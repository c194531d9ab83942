// The tracing plugin: this process's spans go where the standard OTEL_* variables say (tracing/config.ts),
// named after the service unless OTEL_SERVICE_NAME says otherwise, and what is buffered is sent on shutdown.
// The spans themselves are made by the chassis where every request, call, query and message passes (see
// tracing/tracer.ts for why there, and not by auto-instrumentation).
import { settlesWithin } from '@souk/kit';
import type { Logger } from '../logger.ts';
import { setupTracing, tracingConfig } from '../tracing/index.ts';
import type { Closers } from './closers.ts';

const FLUSH_MS = 2000;

export async function tracingPlugin(options: {
  name: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  closers: Closers;
}): Promise<void> {
  const config = tracingConfig(options.env, options.name);
  for (const warning of config.warnings) options.log.warn(warning);
  const tracing = await setupTracing(config);
  if (tracing.config.export !== undefined)
    options.log.info(
      {
        endpoint: tracing.config.export.url,
        protocol: tracing.config.export.protocol,
        sampler: tracing.config.sampler.name,
      },
      'exporting traces',
    );
  // A collector that does not answer must not hold the shutdown (and the drain's deadline) hostage.
  options.closers.add(async () => {
    if (!(await settlesWithin(FLUSH_MS, tracing.flush())))
      options.log.warn(`the last spans were not exported within ${FLUSH_MS} ms`);
  });
}
