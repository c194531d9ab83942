// The local profile's config source: one YAML file, watched, so an edit applies without a restart.
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseYamlMapping, type ConfigSource } from '../config.ts';

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
    return parseYamlMapping(text, this.#file);
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
