// One service as an OS process: spawned, its output relayed line by line, restarted with backoff when it
// dies, and stopped with SIGTERM (SIGKILL after a grace period).
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { backoffDelay, settlesWithin } from '@souk/kit';

export interface ServiceProcessOptions {
  name: string;
  entry: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  onLine: (name: string, line: string) => void;
  onExit: (name: string, code: number | null, signal: NodeJS.Signals | null, restartInMs: number) => void;
}

const MAX_BACKOFF_MS = 30_000;
/** A process that stayed up this long is healthy again: its next crash restarts it at once. */
const STABLE_AFTER_MS = 60_000;

export class ServiceProcess {
  readonly name: string;
  readonly #options: ServiceProcessOptions;
  #child: ChildProcess | undefined;
  #stopping = false;
  #failures = 0;
  #startedAt = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #exited: Promise<void> = Promise.resolve();
  /** Times this service was started, the first included. */
  starts = 0;

  constructor(options: ServiceProcessOptions) {
    this.name = options.name;
    this.#options = options;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  start(): void {
    this.#startedAt = Date.now();
    this.starts += 1;
    // The IPC channel lets the service notice when the supervisor dies (even by kill -9) and stop itself.
    // A process group of its own keeps a terminal's Ctrl-C from reaching it: the supervisor decides the order.
    const child = spawn(process.execPath, [this.#options.entry], {
      cwd: this.#options.cwd,
      env: this.#options.env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      detached: true,
    });
    this.#child = child;
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => this.#options.onLine(this.name, line));
    }
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#child = undefined;
        resolve();
        if (this.#stopping) return;
        if (Date.now() - this.#startedAt > STABLE_AFTER_MS) this.#failures = 0;
        const delay =
          this.#failures === 0
            ? 0
            : backoffDelay(this.#failures, { baseDelayMs: 1000, maxDelayMs: MAX_BACKOFF_MS });
        this.#failures += 1;
        this.#options.onExit(this.name, code, signal, delay);
        this.#restartTimer = setTimeout(() => this.start(), delay);
      });
    });
  }

  /** Sends a signal without stopping supervision: the process is restarted when it exits, as after a crash. */
  signal(signal: NodeJS.Signals): void {
    this.#child?.kill(signal);
  }

  /** SIGTERM, then SIGKILL if it has not exited after `graceMs` (longer than a service's own 10 s drain). */
  async stop(graceMs = 15_000): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    const child = this.#child;
    if (child === undefined) return;
    child.kill('SIGTERM');
    if (!(await settlesWithin(graceMs, this.#exited))) {
      child.kill('SIGKILL');
      await this.#exited;
    }
  }
}
