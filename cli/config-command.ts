// `souk config get|set|edit`: reads and writes the YAML under /souk/config/ in etcd, refusing what a service's
// schema would refuse, and showing each change as paths: old → new.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ConfigError,
  configKey,
  configProblems,
  deepMerge,
  diffLines,
  parseYamlMapping,
  type connectEtcd,
} from '@souk/chassis';
import { Value } from 'typebox/value';
import { parse as parseYaml, parseDocument, stringify } from 'yaml';
import { SERVICE_NAMES, configSchemaOf, isServiceName, type ServiceName } from './schemas.ts';

type Etcd3 = ReturnType<typeof connectEtcd>;

/** A service, or `shared`: whose key is read or written. */
export type ConfigTarget = ServiceName | 'shared';

export function configTarget(name: string | undefined): ConfigTarget {
  if (name === 'shared' || (name !== undefined && isServiceName(name))) return name;
  throw new ConfigError(`unknown service "${name ?? ''}"; one of: shared, ${SERVICE_NAMES.join(', ')}`);
}

interface Stored {
  text: string;
  document: Record<string, unknown>;
  /** etcd's mod revision of the key, 0 when absent: the write succeeds only if nobody wrote in between. */
  revision: string;
}

async function readKey(etcd: Etcd3, target: ConfigTarget): Promise<Stored> {
  const key = configKey(target);
  const response = await etcd.get(key).exec();
  const kv = response.kvs[0];
  const text = kv?.value.toString() ?? '';
  return { text, document: parseYamlMapping(text, key), revision: kv?.mod_revision ?? '0' };
}

/** What the service would run with, environment aside: defaults, then shared, then its own key. */
function effective(service: ServiceName, shared: Record<string, unknown>, own: Record<string, unknown>) {
  const schema = configSchemaOf(service);
  return Value.Convert(schema, Value.Default(schema, deepMerge(shared, own))) as Record<string, unknown>;
}

/** The schema errors a change brings in; errors already there (a secret given only by env) are not its own. */
async function refusals(etcd: Etcd3, target: ConfigTarget, before: Stored, after: Record<string, unknown>) {
  const problems = new Map<string, ServiceName[]>();
  const services = target === 'shared' ? SERVICE_NAMES : [target];
  const shared = target === 'shared' ? before : await readKey(etcd, 'shared');
  for (const service of services) {
    const own = target === 'shared' ? (await readKey(etcd, service)).document : before.document;
    const schema = configSchemaOf(service);
    const old = new Set(configProblems(schema, deepMerge(shared.document, own)));
    const merged = target === 'shared' ? deepMerge(after, own) : deepMerge(shared.document, after);
    for (const problem of configProblems(schema, merged)) {
      if (!old.has(problem)) problems.set(problem, [...(problems.get(problem) ?? []), service]);
    }
  }
  return [...problems].map(([problem, by]) =>
    target === 'shared' ? `${problem} (${by.join(', ')})` : problem,
  );
}

const pathOf = (dotted: string): string[] => dotted.split('.').filter((segment) => segment !== '');

export async function getConfig(etcd: Etcd3, target: ConfigTarget, dotted?: string): Promise<string> {
  const own = await readKey(etcd, target);
  let value: unknown =
    target === 'shared'
      ? own.document
      : effective(target, (await readKey(etcd, 'shared')).document, own.document);
  for (const segment of pathOf(dotted ?? '')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, segment)) {
      throw new ConfigError(`${target} has no setting ${dotted ?? ''}`);
    }
    value = (value as Record<string, unknown>)[segment];
  }
  return stringify(value).trimEnd();
}

/** Validates `text` as the new document of `target` and writes it; returns the diff, empty when nothing changed. */
async function writeDocument(
  etcd: Etcd3,
  target: ConfigTarget,
  before: Stored,
  text: string,
): Promise<string[]> {
  const after = parseYamlMapping(text, configKey(target));
  const problems = await refusals(etcd, target, before, after);
  if (problems.length > 0)
    throw new ConfigError(`refused, ${target} would not accept it: ${problems.join('; ')}`);
  let changes: string[];
  if (target === 'shared') changes = diffLines(before.document, after);
  else {
    const shared = (await readKey(etcd, 'shared')).document;
    changes = diffLines(effective(target, shared, before.document), effective(target, shared, after));
  }
  if (changes.length === 0 && text === before.text) return [];
  const key = configKey(target);
  const result = await etcd.if(key, 'Mod', '==', before.revision).then(etcd.put(key).value(text)).commit();
  if (!result.succeeded) throw new ConfigError(`${key} changed while this ran; nothing written, try again`);
  return changes;
}

export async function setConfig(
  etcd: Etcd3,
  target: ConfigTarget,
  dotted: string,
  value: string,
): Promise<string[]> {
  const segments = pathOf(dotted);
  if (segments.length === 0) throw new ConfigError('a path is needed, e.g. rateLimit.max');
  const before = await readKey(etcd, target);
  // Through the YAML document, so the comments and order of what is already there stay.
  const document = parseDocument(before.text);
  document.setIn(segments, parseYaml(value));
  return writeDocument(etcd, target, before, document.toString());
}

export async function editConfig(etcd: Etcd3, target: ConfigTarget, editor: string): Promise<string[]> {
  const before = await readKey(etcd, target);
  const folder = await mkdtemp(path.join(tmpdir(), 'souk-config-'));
  const file = path.join(folder, `${target}.yaml`);
  await writeFile(file, before.text);
  // Through the shell, as git does: $EDITOR may carry arguments (`code --wait`).
  const edited = spawnSync(`${editor} ${JSON.stringify(file)}`, { stdio: 'inherit', shell: true });
  if (edited.status !== 0)
    throw new ConfigError(`${editor} exited with ${edited.status ?? edited.signal}; nothing written`);
  const text = await readFile(file, 'utf8');
  try {
    const changes = await writeDocument(etcd, target, before, text);
    await rm(folder, { recursive: true, force: true });
    return changes;
  } catch (error) {
    if (error instanceof ConfigError) error.message += ` (your edit is kept in ${file})`;
    throw error;
  }
}
