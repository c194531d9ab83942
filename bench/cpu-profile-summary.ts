// `node bench/cpu-profile-summary.ts DIR [pid=name …]`: where the CPU time of each profile in DIR went (the
// .cpuprofile files `npm run bench:orders -- --profile DIR` leaves), by package and by function, self time.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [dir, ...names] = process.argv.slice(2);
if (dir === undefined) throw new Error('usage: node bench/cpu-profile-summary.ts DIR [pid=name …]');
const nameOf = new Map(names.map((pair) => pair.split('=') as [string, string]));

/** node_modules/<package>, node's own code, GC and idle, or the project's file. */
function owner(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node';
  const packageName = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (packageName !== undefined) return packageName;
  return path.relative(process.cwd(), new URL(url).pathname);
}

for (const file of (await readdir(dir)).filter((name) => name.endsWith('.cpuprofile')).sort()) {
  const profile = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, index) =>
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)),
  );
  let total = 0;
  let idle = 0;
  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const [id, micros] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    total += micros;
    if (functionName === '(idle)') {
      idle += micros;
      continue;
    }
    const who = owner(url, functionName);
    byOwner.set(who, (byOwner.get(who) ?? 0) + micros);
    const where = `${functionName || '(anonymous)'} ${who}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(where, (byFunction.get(where) ?? 0) + micros);
  }
  const busy = total - idle;
  const pid = /\.(\d+)\.\d+\.\d+\.cpuprofile$/.exec(file)?.[1] ?? '';
  console.log(
    `\n${nameOf.get(pid) ?? file}: ${(busy / 1e6).toFixed(1)} s busy of ${(total / 1e6).toFixed(1)} s`,
  );
  const top = (map: Map<string, number>, count: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([key, micros]) => `  ${((micros / busy) * 100).toFixed(1).padStart(5)}%  ${key}`)
      .join('\n');
  console.log(' by package:');
  console.log(top(byOwner, 12));
  console.log(' by function:');
  console.log(top(byFunction, 15));
}
