// The distributed profile's config source: `/souk/config/shared` then `/souk/config/<service>`, YAML, watched.
import { randomBytes } from 'node:crypto';
import type { Etcd3 } from 'etcd3';
import { etcd3 } from '../heavy-modules.ts';
import {
  ConfigConflictError,
  ConfigSourceError,
  deepMerge,
  parseYamlMapping,
  type ConfigDocument,
  type ConfigHistoryEntry,
  type ConfigLog,
  type ConfigSource,
} from '../config.ts';

export const CONFIG_PREFIX = '/souk/config/';
/** Applied changes of a service's key: `/souk/config-history/<service>/<time>-<random>` → JSON. */
export const CONFIG_HISTORY_PREFIX = '/souk/config-history/';
export const DEFAULT_ETCD_ENDPOINTS = 'http://127.0.0.1:2379';

/** The etcd key holding the YAML of a service, or of `shared`. */
export const configKey = (name: string): string => `${CONFIG_PREFIX}${name}`;

/** `SOUK_ETCD_ENDPOINTS`, comma-separated. */
export const etcdEndpoints = (value: string | undefined): string[] =>
  (value ?? DEFAULT_ETCD_ENDPOINTS)
    .split(',')
    .map((endpoint) => endpoint.trim())
    .filter((endpoint) => endpoint !== '');

/** A client that gives up in seconds, not the library's 30 s, so an unreachable etcd is reported promptly. */
export const connectEtcd = (endpoints: readonly string[]): Etcd3 =>
  new (etcd3().Etcd3)({ hosts: [...endpoints], dialTimeout: 2000 });

export class EtcdConfigSource implements ConfigSource {
  readonly description: string;
  readonly #client: Etcd3;
  readonly #keys: readonly [shared: string, own: string];

  constructor(service: string, endpoints: readonly string[]) {
    this.#keys = [configKey('shared'), configKey(service)];
    this.#client = connectEtcd(endpoints);
    this.description = `etcd ${endpoints.join(',')} ${this.#keys.join(' + ')}`;
  }

  async load(): Promise<Record<string, unknown>> {
    const [shared, own] = await Promise.all(
      this.#keys.map((key) =>
        this.#client
          .get(key)
          .string()
          .catch((error: unknown) => {
            throw new ConfigSourceError(
              `etcd did not answer (${this.description}; set SOUK_ETCD_ENDPOINTS): ${(error as Error).message.split('.')[0]}`,
            );
          }),
      ),
    );
    return deepMerge(
      parseYamlMapping(shared ?? '', this.#keys[0]),
      parseYamlMapping(own ?? '', this.#keys[1]),
    );
  }

  async readDocument(): Promise<ConfigDocument> {
    const response = await this.#client
      .get(this.#keys[1])
      .exec()
      .catch((error: unknown) => {
        throw this.#unreachable(error);
      });
    const kv = response.kvs[0];
    return { text: kv?.value.toString() ?? '', version: kv?.mod_revision ?? '0' };
  }

  async loadWith(text: string): Promise<Record<string, unknown>> {
    const shared = await this.#client
      .get(this.#keys[0])
      .string()
      .catch((error: unknown) => {
        throw this.#unreachable(error);
      });
    return deepMerge(parseYamlMapping(shared ?? '', this.#keys[0]), parseYamlMapping(text, this.#keys[1]));
  }

  /** One etcd transaction: the key only if nobody wrote it since `version`, and its history entry with it. */
  async writeDocument(text: string, version: string, entry: ConfigHistoryEntry): Promise<void> {
    const [, key] = this.#keys;
    const historyKey = `${this.#historyPrefix}${Date.parse(entry.at).toString().padStart(15, '0')}-${randomBytes(4).toString('hex')}`;
    const result = await this.#client
      .if(key, 'Mod', '==', version)
      .then(this.#client.put(key).value(text), this.#client.put(historyKey).value(JSON.stringify(entry)))
      .commit();
    if (!result.succeeded) throw new ConfigConflictError(`${key} changed since it was read; nothing written`);
  }

  async history(limit: number): Promise<ConfigHistoryEntry[]> {
    const entries = await this.#client
      .getAll()
      .prefix(this.#historyPrefix)
      .sort('Key', 'Descend')
      .limit(limit)
      .strings();
    return Object.values(entries).map((value) => JSON.parse(value) as ConfigHistoryEntry);
  }

  get #historyPrefix(): string {
    return `${CONFIG_HISTORY_PREFIX}${this.#keys[1].slice(CONFIG_PREFIX.length)}/`;
  }

  #unreachable(error: unknown): ConfigSourceError {
    return new ConfigSourceError(
      `etcd did not answer (${this.description}; set SOUK_ETCD_ENDPOINTS): ${(error as Error).message.split('.')[0]}`,
    );
  }

  watch(onChange: () => void, log: ConfigLog): () => void {
    let lost = false;
    const watching = this.#client
      .watch()
      .prefix(CONFIG_PREFIX)
      .create()
      .then((watcher) => {
        const changed = (kv: { key: Buffer }) => {
          if (this.#keys.includes(kv.key.toString())) onChange();
        };
        watcher.on('put', changed);
        watcher.on('delete', changed);
        watcher.on('disconnected', (error) => {
          if (lost) return;
          lost = true;
          log.warn(
            { source: this.description, err: error },
            'etcd unreachable; keeping the last good configuration',
          );
        });
        // The library re-watches after a reconnect; what changed meanwhile is read again here.
        watcher.on('connected', () => {
          if (lost)
            log.info({ source: this.description }, 'etcd reachable again; watching the configuration');
          lost = false;
          onChange();
        });
        watcher.on('error', (error) =>
          log.warn({ source: this.description, err: error }, 'etcd watch failed'),
        );
        // A change between the first load and this watch would otherwise be missed.
        onChange();
        return watcher;
      });
    watching.catch((error: unknown) =>
      log.error({ source: this.description, err: error }, 'watching the configuration in etcd failed'),
    );
    return () => {
      void watching
        .then((watcher) => watcher.cancel())
        .catch(() => {})
        .finally(() => this.close());
    };
  }

  close(): void {
    this.#client.close();
  }
}
