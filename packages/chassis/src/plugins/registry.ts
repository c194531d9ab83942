// The registry plugin: discovery of the other services and this instance's registration, part of readiness.
import type { Health } from '../health.ts';
import type { Logger } from '../logger.ts';
import { createRegistry, type Registry } from '../registry/index.ts';
import type { Closers } from './closers.ts';
import type { BaseLiveConfig } from './config.ts';

export interface RegistryPluginOptions {
  config: BaseLiveConfig;
  env: NodeJS.ProcessEnv;
  log: Logger;
  health: Health;
  closers: Closers;
}

export async function registryPlugin(options: RegistryPluginOptions): Promise<Registry> {
  const { config } = options;
  const registry = createRegistry({
    discovery: () => config.current.discovery,
    table: () => config.current.registry,
    version: options.env.npm_package_version ?? '0.1.0',
    log: options.log,
  });
  await registry.start();
  options.health.addCheck('registry', registry.check);
  options.closers.add(() => registry.close());
  return registry;
}
