// What `npm start` and `npm run start:fleet` share on the terminal: the supervisor's own lines, the services'
// log lines (quiet until the shop is up), and a stop on Ctrl-C or when the process that started us is gone.
import { createLineFormatter } from './log-lines.ts';

export interface Terminal {
  say: (line: string) => void;
  bold: (text: string) => string;
  /** Prints a service's log line: while starting only warnings and errors, once up everything. */
  logLine: (source: string, line: string) => void;
  /** From now on every log line is shown. */
  up: () => void;
}

export function createTerminal(env: NodeJS.ProcessEnv = process.env): Terminal {
  const color = Boolean(process.stdout.isTTY) && env.NO_COLOR === undefined;
  const format = createLineFormatter(color);
  const bold = (text: string) => (color ? `\u001b[1m${text}\u001b[0m` : text);
  let ready = false;
  // PostgreSQL's routine LOG lines stay hidden: its problems come as WARNING, ERROR, FATAL or PANIC.
  const shouldShow = (source: string, line: string) =>
    source === 'postgres'
      ? /\b(WARNING|ERROR|FATAL|PANIC):/.test(line)
      : ready || /"level":[456]\d/.test(line) || !line.startsWith('{');
  return {
    say: (line) => process.stdout.write(`${bold('souk'.padEnd(13))} ${line}\n`),
    bold,
    logLine: (source, line) => {
      if (shouldShow(source, line)) process.stdout.write(`${format(source, line)}\n`);
    },
    up: () => {
      ready = true;
    },
  };
}

/** Calls `stop` once on SIGINT or SIGTERM (a second signal exits at once), or when our parent is gone. */
export function stopOnSignals(terminal: Terminal, what: string, stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      terminal.say('Stopping at once.');
      process.exit(1);
    }
    stopping = true;
    terminal.say(`${signal}: ${what}…`);
    stop().then(
      () => {
        terminal.say('Stopped.');
        process.exit(0);
      },
      (error: unknown) => {
        terminal.say(`Stop failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // `npm start` runs us under npm and a shell, which do not always pass a SIGTERM on: when the process that
  // started us is gone, stop as if told to, rather than leave the shop running unowned.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) onSignal('SIGHUP');
  }, 1000).unref();
}
