// What a Node process of `npm run bench:gateway --probe` did during one fixed-rate phase, to tell where a
// latency tail comes from: its CPU, how long its main thread waited for a core (the second field of Linux's
// schedstat: time runnable but not running), its garbage collections, and its event loop's stalls, each stall
// split into waiting for a core, running (JavaScript or the collector) and collecting.
// The bench imports it for its own client; the gateway and the upstream load it with `--import`, and on
// SIGUSR2 write the phase's report to SOUK_BENCH_PROBE_FILE and start the next phase.
import { openSync, readSync, writeFileSync } from 'node:fs';
import {
  PerformanceObserver,
  constants,
  performance,
  type NodeGCPerformanceDetail,
  type PerformanceEntry,
} from 'node:perf_hooks';

/** A gap between two ticks of the probe's 1 ms timer longer than this is a stall. */
const STALL_MS = 5;

export interface PhaseReport {
  phase: number;
  wallMs: number;
  /** Every thread's CPU: the main thread, the collector's helpers, libuv's pool. */
  cpuMs: number;
  /** The main thread's time on a core and waiting for one. */
  runMs: number;
  waitMs: number;
  scavenges: Pauses;
  markCompacts: Pauses;
  stalls: Pauses & { waitMs: number; gcMs: number; largest: string[] };
}

interface Pauses {
  count: number;
  totalMs: number;
  maxMs: number;
}

interface Stall {
  ms: number;
  waitMs: number;
  runMs: number;
  gcMs: number;
}

/** The main thread's [time on a core, time waiting for one], in ms (Linux: /proc/thread-self/schedstat). */
export function schedstatReader(file = '/proc/thread-self/schedstat'): () => [run: number, wait: number] {
  const fd = openSync(file, 'r');
  const buffer = Buffer.alloc(128);
  return () => {
    const fields = buffer.toString('latin1', 0, readSync(fd, buffer, 0, buffer.length, 0)).split(' ');
    return [Number(fields[0]) / 1e6, Number(fields[1]) / 1e6];
  };
}

export function startPhaseProbe(): { next(): PhaseReport } {
  const schedstat = schedstatReader();
  let gcs: Array<{ start: number; end: number; major: boolean }> = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as PerformanceEntry & { detail?: NodeGCPerformanceDetail }).detail?.kind;
      gcs.push({
        start: entry.startTime,
        end: entry.startTime + entry.duration,
        major: kind === constants.NODE_PERFORMANCE_GC_MAJOR,
      });
    }
  }).observe({ entryTypes: ['gc'] });

  let stalls: Stall[] = [];
  let tick = { at: performance.now(), sched: schedstat() };
  setInterval(() => {
    const now = { at: performance.now(), sched: schedstat() };
    if (now.at - tick.at > STALL_MS)
      stalls.push({
        ms: now.at - tick.at,
        runMs: now.sched[0] - tick.sched[0],
        waitMs: now.sched[1] - tick.sched[1],
        gcMs: overlap(gcs, tick.at, now.at),
      });
    tick = now;
  }, 1).unref();

  let phase = 0;
  let start = { at: performance.now(), cpu: process.cpuUsage(), sched: schedstat() };
  return {
    next(): PhaseReport {
      const end = { at: performance.now(), cpu: process.cpuUsage(start.cpu), sched: schedstat() };
      const report: PhaseReport = {
        phase: phase++,
        wallMs: end.at - start.at,
        cpuMs: (end.cpu.user + end.cpu.system) / 1000,
        runMs: end.sched[0] - start.sched[0],
        waitMs: end.sched[1] - start.sched[1],
        scavenges: pauses(gcs.filter((gc) => !gc.major).map((gc) => gc.end - gc.start)),
        markCompacts: pauses(gcs.filter((gc) => gc.major).map((gc) => gc.end - gc.start)),
        stalls: {
          ...pauses(stalls.map((stall) => stall.ms)),
          waitMs: sum(stalls.map((stall) => stall.waitMs)),
          gcMs: sum(stalls.map((stall) => stall.gcMs)),
          largest: stalls
            .sort((a, b) => b.ms - a.ms)
            .slice(0, 3)
            .map(
              (stall) =>
                `${Math.round(stall.ms)} ms (waiting ${Math.round(stall.waitMs)}, running ${Math.round(stall.runMs)}, of it GC ${Math.round(stall.gcMs)})`,
            ),
        },
      };
      gcs = [];
      stalls = [];
      start = { at: end.at, cpu: process.cpuUsage(), sched: end.sched };
      return report;
    },
  };
}

function overlap(gcs: ReadonlyArray<{ start: number; end: number }>, from: number, to: number): number {
  return sum(gcs.map((gc) => Math.max(0, Math.min(gc.end, to) - Math.max(gc.start, from))));
}

function pauses(durations: number[]): Pauses {
  return { count: durations.length, totalMs: sum(durations), maxMs: Math.max(0, ...durations) };
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

const file = process.env.SOUK_BENCH_PROBE_FILE;
if (file !== undefined) {
  const probe = startPhaseProbe();
  process.on('SIGUSR2', () => writeFileSync(file, JSON.stringify(probe.next())));
}
