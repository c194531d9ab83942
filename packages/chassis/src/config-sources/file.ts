// The local profile's config source: one YAML file, watched, so an edit applies without a restart.
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { appendFile, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  ConfigConflictError,
  parseYamlMapping,
  type ConfigDocument,
  type ConfigHistoryEntry,
  type ConfigSource,
} from '../config.ts';

export class YamlFileConfigSource implements ConfigSource {
  readonly description: string;
  readonly #file: string;

  constructor(file: string) {
    this.#file = path.resolve(file);
    this.description = this.#file;
  }

  async load(): Promise<Record<string, unknown>> {
    return parseYamlMapping((await this.readDocument()).text, this.#file);
  }

  async readDocument(): Promise<ConfigDocument> {
    let text = '';
    try {
      text = await readFile(this.#file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    return { text, version: createHash('sha256').update(text).digest('hex') };
  }

  async loadWith(text: string): Promise<Record<string, unknown>> {
    return parseYamlMapping(text, this.#file);
  }

  /** The history is a JSON-lines file beside the config, `<file>.history.jsonl`. */
  async writeDocument(text: string, version: string, entry: ConfigHistoryEntry): Promise<void> {
    if ((await this.readDocument()).version !== version) {
      throw new ConfigConflictError(`${this.#file} changed since it was read; nothing written`);
    }
    // A rename replaces the file at once, so the watcher (and any reader) never sees half of it.
    const staged = `${this.#file}.${process.pid}.tmp`;
    await writeFile(staged, text);
    await rename(staged, this.#file);
    await appendFile(this.#historyFile, `${JSON.stringify(entry)}\n`);
  }

  async history(limit: number): Promise<ConfigHistoryEntry[]> {
    let text: string;
    try {
      text = await readFile(this.#historyFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const lines = text.split('\n').filter((line) => line.trim() !== '');
    return lines
      .slice(-limit)
      .reverse()
      .map((line) => JSON.parse(line) as ConfigHistoryEntry);
  }

  get #historyFile(): string {
    return `${this.#file}.history.jsonl`;
  }

  watch(onChange: () => void): () => void {
    // Watch the folder, not the file: editors replace files by renaming over them, and a mounted ConfigMap
    // changes by swapping its `..data` symlink while the file's own name sees no event.
    let timer: NodeJS.Timeout | undefined;
    let watcher: FSWatcher;
    try {
      watcher = watch(path.dirname(this.#file), (_event, name) => {
        if (name !== null && name !== path.basename(this.#file) && name !== '..data') return;
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
