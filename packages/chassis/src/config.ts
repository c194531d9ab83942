// Configuration: schema defaults, then a YAML file, then SOUK__SECTION__KEY environment overrides.
// The file is watched; a valid change is applied live, an invalid one is logged and the old config kept.
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Static, TSchema } from 'typebox';
import { Value } from 'typebox/value';

/** Where configuration comes from; the local profile reads a file, the distributed one may read etcd. */
export interface ConfigSource {
  readonly description: string;
  load(): Promise<Record<string, unknown>>;
  /** Calls `onChange` whenever the source may have changed; returns a function that stops watching. */
  watch(onChange: () => void): () => void;
}

export class YamlFileConfigSource implements ConfigSource {
  readonly description: string;
  readonly #file: string;

  constructor(file: string) {
    this.#file = path.resolve(file);
    this.description = this.#file;
  }

  async load(): Promise<Record<string, unknown>> {
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
    const parsed: unknown = parseYaml(text);
    if (parsed === null || parsed === undefined) return {};
    if (typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error(`${this.#file}: expected a mapping`);
    return parsed as Record<string, unknown>;
  }

  watch(onChange: () => void): () => void {
    // Watch the folder, not the file: editors and `kubectl` replace files by renaming over them.
    let timer: NodeJS.Timeout | undefined;
    let watcher: FSWatcher;
    try {
      watcher = watch(path.dirname(this.#file), (_event, name) => {
        if (name !== null && name !== path.basename(this.#file)) return;
        clearTimeout(timer);
        timer = setTimeout(onChange, 50);
      });
    } catch {
      return () => {};
    }
    watcher.unref();
    return () => {
      clearTimeout(timer);
      watcher.close();
    };
  }
}

/** `SOUK__RATE_LIMIT__MAX=5` becomes `{ rateLimit: { max: "5" } }`; the schema converts the type. */
export function environmentOverrides(env: NodeJS.ProcessEnv, prefix = 'SOUK__'): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith(prefix) || value === undefined) continue;
    const segments = key
      .slice(prefix.length)
      .split('__')
      .map((segment) => segment.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()));
    let node = result;
    for (const segment of segments.slice(0, -1)) {
      const child = node[segment];
      node = (typeof child === 'object' && child !== null ? child : (node[segment] = {})) as Record<
        string,
        unknown
      >;
    }
    node[segments.at(-1)!] = parseEnvValue(value);
  }
  return result;
}

function parseEnvValue(value: string): unknown {
  const trimmed = value.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return value;
    }
  }
  return value;
}

export function deepMerge(
  base: Record<string, unknown>,
  override: Record<string, unknown>,
): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = result[key];
    result[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return result;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Validates raw configuration against the schema, filling defaults and converting env strings. */
export function parseConfig<T extends TSchema>(schema: T, raw: Record<string, unknown>): Static<T> {
  const converted = Value.Convert(schema, Value.Default(schema, Value.Clone(raw)));
  const errors = [...Value.Errors(schema, converted)];
  if (errors.length > 0) {
    const lines = errors.slice(0, 10).map((e) => `${e.instancePath || '/'} ${e.message}`);
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
  }
  return converted as Static<T>;
}

export type ConfigListener<T> = (next: T, previous: T) => void;

/** The live configuration of one service. `current` always holds the last valid version. */
export class LiveConfig<T> {
  #current: T;
  readonly #listeners = new Set<ConfigListener<T>>();

  constructor(initial: T) {
    this.#current = initial;
  }

  get current(): T {
    return this.#current;
  }

  onChange(listener: ConfigListener<T>): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Applies `next`; a listener that throws is reported and does not stop the others. */
  replace(next: T, onListenerError: (error: unknown) => void = () => {}): void {
    const previous = this.#current;
    this.#current = next;
    for (const listener of this.#listeners) {
      try {
        listener(next, previous);
      } catch (error) {
        onListenerError(error);
      }
    }
  }
}

export async function loadConfig<C>(
  parse: (raw: Record<string, unknown>) => C,
  source: ConfigSource,
  env: NodeJS.ProcessEnv,
): Promise<C> {
  return parse(deepMerge(await source.load(), environmentOverrides(env)));
}

/** Loads the config, then keeps it current as the source changes. */
export async function watchConfig<C>(
  parse: (raw: Record<string, unknown>) => C,
  source: ConfigSource,
  env: NodeJS.ProcessEnv,
  log: { info(obj: object, msg: string): void; error(obj: object, msg: string): void },
): Promise<{ config: LiveConfig<C>; stop: () => void }> {
  const config = new LiveConfig<C>(await loadConfig(parse, source, env));
  const stop = source.watch(() => {
    loadConfig(parse, source, env).then(
      (next) => {
        if (JSON.stringify(next) === JSON.stringify(config.current)) return;
        config.replace(next, (error) => log.error({ err: error }, 'applying the new configuration failed'));
        log.info({ source: source.description }, 'configuration reloaded');
      },
      (error: unknown) =>
        log.error(
          { source: source.description, err: error },
          'configuration change rejected; keeping the previous one',
        ),
    );
  });
  return { config, stop };
}
