// Whether a user can reach a path: every folder on the way must let it enter (search permission), as
// PostgreSQL, run as the `postgres` user when the supervisor is root, needs for its binaries and data.
import path from 'node:path';

export interface Account {
  uid: number;
  gid: number;
}

export interface FolderStat {
  /** Permission bits, as `fs.Stats.mode`. */
  mode: number;
  uid: number;
  gid: number;
}

/** The first folder from `/` down to `target` (included) that `who` cannot enter; undefined if none. */
export function firstBlockedFolder(
  target: string,
  who: Account,
  statOf: (folder: string) => FolderStat,
): string | undefined {
  const { root } = path.parse(target);
  let folder = root;
  for (const part of ['', ...path.relative(root, target).split(path.sep).filter(Boolean)]) {
    folder = path.join(folder, part);
    if (!canEnter(statOf(folder), who)) return folder;
  }
  return undefined;
}

function canEnter(stat: FolderStat, who: Account): boolean {
  if (who.uid === 0) return true;
  const shift = who.uid === stat.uid ? 6 : who.gid === stat.gid ? 3 : 0;
  return ((stat.mode >> shift) & 1) === 1;
}
