// Which config source a service reads, chosen by the environment before any configuration is loaded.
import path from 'node:path';
import { ConfigError, type ConfigSource } from '../config.ts';
import { EtcdConfigSource, etcdEndpoints } from './etcd.ts';
import { YamlFileConfigSource } from './file.ts';

export { CONFIG_PREFIX, EtcdConfigSource, configKey, connectEtcd, etcdEndpoints } from './etcd.ts';
export { YamlFileConfigSource } from './file.ts';

/** `SOUK_CONFIG_SOURCE=etcd` reads `SOUK_ETCD_ENDPOINTS`; the default reads `config/<service>.yaml`. */
export function configSourceFor(service: string, env: NodeJS.ProcessEnv): ConfigSource {
  const kind = env.SOUK_CONFIG_SOURCE ?? 'file';
  if (kind === 'etcd') return new EtcdConfigSource(service, etcdEndpoints(env.SOUK_ETCD_ENDPOINTS));
  if (kind === 'file') {
    return new YamlFileConfigSource(
      env.SOUK_CONFIG_FILE ?? path.join(process.cwd(), 'config', `${service}.yaml`),
    );
  }
  throw new ConfigError(`SOUK_CONFIG_SOURCE must be "file" or "etcd", not "${kind}"`);
}
