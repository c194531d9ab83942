// Configuration: schema defaults, then a source (a YAML file, or etcd keys), then SOUK__SECTION__KEY environment
// overrides. The source is watched; a valid change is applied live, an invalid one is logged, counted and refused.
import { parse as parseYaml } from 'yaml';
import type { Static, TSchema } from 'typebox';
import { Value } from 'typebox/value';

export interface ConfigLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Where configuration comes from (config-sources/): a watched YAML file, or etcd keys. */
export interface ConfigSource {
  readonly description: string;
  /** The raw configuration; throws ConfigError when it is malformed, ConfigSourceError when it cannot be read. */
  load(): Promise<Record<string, unknown>>;
  /** Calls `onChange` whenever the source may have changed; returns a function that stops watching. */
  watch(onChange: () => void, log: ConfigLog): () => void;
  /** Releases what the source holds when it will not be watched (the first load failed). */
  close?(): void;
  /** The document an operator edits (the file, or the service's own etcd key); absent where it cannot be edited. */
  readDocument?(): Promise<ConfigDocument>;
  /** What load() would return were the document `text`; throws ConfigError when `text` is malformed. */
  loadWith?(text: string): Promise<Record<string, unknown>>;
  /** Replaces the document unless it changed since `version`, and adds `entry` to the history beside it. */
  writeDocument?(text: string, version: string, entry: ConfigHistoryEntry): Promise<void>;
  /** The changes applied through writeDocument, newest first. */
  history?(limit: number): Promise<ConfigHistoryEntry[]>;
}

export interface ConfigDocument {
  text: string;
  /** Changes whenever the document does: a write carrying an older one is refused (ConfigConflictError). */
  version: string;
}

/** One applied change: who, when, what changed (`path: old → new`) and the whole document as written. */
export interface ConfigHistoryEntry {
  at: string;
  actor: string;
  diff: string[];
  document: string;
}

/** A YAML (or JSON) document that must be a mapping; empty text is an empty mapping. */
export function parseYamlMapping(text: string, where: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`${where}: not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed))
    throw new ConfigError(`${where}: expected a mapping`);
  return parsed as Record<string, unknown>;
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

/** Configuration that is malformed or breaks the schema. Its stack is only its message: an operator reads it. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
    this.stack = `${this.name}: ${message}`;
  }
}

/** The source could not be read (etcd unreachable); not a verdict on the configuration. */
export class ConfigSourceError extends ConfigError {}

/** Somebody else changed the document between reading and writing it; nothing was written. */
export class ConfigConflictError extends ConfigError {}

/** Paths whose values differ between two configurations, as `path: old → new` lines (values as JSON). */
export function diffLines(before: unknown, after: unknown): string[] {
  const left = leaves(before);
  const right = leaves(after);
  const lines: string[] = [];
  for (const key of new Set([...left.keys(), ...right.keys()])) {
    const [from, to] = [left.get(key), right.get(key)];
    if (from !== to) lines.push(`${key}: ${from ?? '(none)'} → ${to ?? '(none)'}`);
  }
  return lines;
}

function leaves(value: unknown, prefix = '', into = new Map<string, string>()): Map<string, string> {
  if (isPlainObject(value)) {
    for (const [key, child] of Object.entries(value))
      leaves(child, prefix === '' ? key : `${prefix}.${key}`, into);
  } else if (prefix !== '') {
    into.set(prefix, JSON.stringify(value));
  }
  return into;
}

/** The schema's complaints about raw configuration (defaults filled, env strings converted), one per path. */
export function configProblems<T extends TSchema>(schema: T, raw: Record<string, unknown>): string[] {
  const converted = Value.Convert(schema, Value.Default(schema, Value.Clone(raw)));
  return [...Value.Errors(schema, converted)].map((e) => `${e.instancePath || '/'} ${e.message}`);
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

export type ReloadResult = 'applied' | 'refused';

/** Loads the config, then keeps it current as the source changes; `onReload` counts each verdict. */
export async function watchConfig<C>(
  parse: (raw: Record<string, unknown>) => C,
  source: ConfigSource,
  env: NodeJS.ProcessEnv,
  log: ConfigLog,
  onReload: (result: ReloadResult) => void = () => {},
): Promise<{ config: LiveConfig<C>; stop: () => void }> {
  let initial: C;
  try {
    initial = await loadConfig(parse, source, env);
  } catch (error) {
    source.close?.();
    throw error;
  }
  const config = new LiveConfig<C>(initial);
  const reload = () =>
    loadConfig(parse, source, env).then(
      (next) => {
        if (JSON.stringify(next) === JSON.stringify(config.current)) return;
        config.replace(next, (error) => log.error({ err: error }, 'applying the new configuration failed'));
        onReload('applied');
        log.info({ source: source.description }, 'configuration reloaded');
      },
      (error: unknown) => {
        if (error instanceof ConfigSourceError || !(error instanceof ConfigError)) {
          log.warn(
            { source: source.description, err: error },
            'configuration unreadable; keeping the last one',
          );
          return;
        }
        onReload('refused');
        log.error(
          { source: source.description, reason: error.message },
          'configuration change refused; keeping the previous one',
        );
      },
    );
  const stop = source.watch(() => void reload(), log);
  return { config, stop };
}
