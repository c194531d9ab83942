// What a set of processes and all their descendants cost, read from /proc (Linux): memory as proportional set
// size (PSS: pages shared between processes, such as PostgreSQL's shared buffers, are counted once in total),
// and the CPU time they used.
import { readFile, readdir } from 'node:fs/promises';

/** Linux reports CPU times in /proc in units of USER_HZ, which is 100 on every architecture it supports. */
const TICKS_PER_SECOND = 100;

interface ProcessRead {
  ppid: number;
  pssBytes?: number;
  cpuSeconds?: number;
}

export async function memoryBytes(
  roots: number[],
): Promise<{ bytes: number; processes: number } | undefined> {
  const tree = await readTree(roots, { memory: true });
  if (tree === undefined) return undefined;
  let bytes = 0;
  for (const read of tree.values()) bytes += read.pssBytes ?? 0;
  return { bytes, processes: tree.size };
}

/**
 * CPU time (user + system) used so far by the processes alive now; a process that ended takes its time with
 * it, so compare two readings of a set that did not change.
 */
export async function cpuSeconds(roots: number[]): Promise<number | undefined> {
  const tree = await readTree(roots, { memory: false });
  if (tree === undefined) return undefined;
  let seconds = 0;
  for (const read of tree.values()) seconds += read.cpuSeconds ?? 0;
  return seconds;
}

async function readTree(
  roots: number[],
  what: { memory: boolean },
): Promise<Map<number, ProcessRead> | undefined> {
  let entries: string[];
  try {
    entries = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  const reads = new Map<number, ProcessRead>();
  await Promise.all(
    entries.map(async (name) => {
      try {
        const read = what.memory ? await readMemory(name) : await readCpu(name);
        if (read !== undefined) reads.set(Number(name), read);
      } catch {
        // The process ended while we looked.
      }
    }),
  );
  const included = new Set(roots);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, { ppid }] of reads) {
      if (!included.has(pid) && included.has(ppid)) {
        included.add(pid);
        grew = true;
      }
    }
  }
  return new Map([...reads].filter(([pid]) => included.has(pid)));
}

async function readMemory(name: string): Promise<ProcessRead | undefined> {
  const status = await readFile(`/proc/${name}/status`, 'utf8');
  const ppid = /^PPid:\s+(\d+)/m.exec(status)?.[1];
  if (ppid === undefined) return undefined;
  const rollup = await readFile(`/proc/${name}/smaps_rollup`, 'utf8').catch(() => '');
  const pss = /^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  return { ppid: Number(ppid), ...(pss === undefined ? {} : { pssBytes: Number(pss) * 1024 }) };
}

async function readCpu(name: string): Promise<ProcessRead | undefined> {
  const stat = await readFile(`/proc/${name}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: the fields after it start past its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 4 (ppid), 14 (utime) and 15 (stime) of proc(5), counted from the state (field 3) at index 0.
  const [ppid, utime, stime] = [fields[1], fields[11], fields[12]].map(Number);
  if (ppid === undefined || utime === undefined || stime === undefined) return undefined;
  return { ppid, cpuSeconds: (utime + stime) / TICKS_PER_SECOND };
}
