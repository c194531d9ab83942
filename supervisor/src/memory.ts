// Memory of a set of processes and all their descendants, read from /proc (Linux). Proportional set size
// (PSS): pages shared between processes, such as PostgreSQL's shared buffers, are counted once in total.
import { readFile, readdir } from 'node:fs/promises';

export async function memoryBytes(
  roots: number[],
): Promise<{ bytes: number; processes: number } | undefined> {
  let entries: string[];
  try {
    entries = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  const parentOf = new Map<number, number>();
  const rss = new Map<number, number>();
  await Promise.all(
    entries.map(async (name) => {
      try {
        const status = await readFile(`/proc/${name}/status`, 'utf8');
        const ppid = /^PPid:\s+(\d+)/m.exec(status)?.[1];
        if (ppid !== undefined) parentOf.set(Number(name), Number(ppid));
        const rollup = await readFile(`/proc/${name}/smaps_rollup`, 'utf8').catch(() => '');
        const pss = /^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
        if (pss !== undefined) rss.set(Number(name), Number(pss) * 1024);
      } catch {
        // The process ended while we looked.
      }
    }),
  );
  const included = new Set(roots);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parentOf) {
      if (!included.has(pid) && included.has(ppid)) {
        included.add(pid);
        grew = true;
      }
    }
  }
  let bytes = 0;
  for (const pid of included) bytes += rss.get(pid) ?? 0;
  return { bytes, processes: included.size };
}
