import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstBlockedFolder, type FolderStat } from './folder-access.ts';

const ROOT = 0;
const POSTGRES = { uid: 110, gid: 120 };
const folders: Record<string, FolderStat> = {
  '/': { mode: 0o755, uid: ROOT, gid: ROOT },
  '/root': { mode: 0o700, uid: ROOT, gid: ROOT },
  '/root/souk': { mode: 0o755, uid: ROOT, gid: ROOT },
  '/tmp': { mode: 0o1777, uid: ROOT, gid: ROOT },
  '/tmp/tmp.x1': { mode: 0o700, uid: ROOT, gid: ROOT },
  '/tmp/tmp.x1/souk': { mode: 0o755, uid: ROOT, gid: ROOT },
  '/srv': { mode: 0o755, uid: ROOT, gid: ROOT },
  '/srv/souk': { mode: 0o750, uid: ROOT, gid: POSTGRES.gid },
  '/srv/souk/.souk': { mode: 0o700, uid: POSTGRES.uid, gid: ROOT },
  '/srv/souk/bin': { mode: 0o700, uid: ROOT, gid: POSTGRES.gid },
};
const statOf = (folder: string) => {
  const stat = folders[folder];
  if (stat === undefined) throw new Error(`no such folder ${folder}`);
  return stat;
};

describe('firstBlockedFolder', () => {
  it("when the clone is in root's home, then /root is the folder that blocks the postgres user", () => {
    assert.equal(firstBlockedFolder('/root/souk', POSTGRES, statOf), '/root');
  });

  it('when the clone is in a folder made by mktemp -d, then that folder blocks it', () => {
    assert.equal(firstBlockedFolder('/tmp/tmp.x1/souk', POSTGRES, statOf), '/tmp/tmp.x1');
  });

  it('when the user may enter as group or as owner, then nothing blocks it', () => {
    assert.equal(firstBlockedFolder('/srv/souk/.souk', POSTGRES, statOf), undefined);
  });

  it('when only the group may read but not enter, then that folder blocks it', () => {
    assert.equal(firstBlockedFolder('/srv/souk/bin', POSTGRES, statOf), '/srv/souk/bin');
  });

  it('when a user does not exist yet, then only what others may enter lets it through', () => {
    assert.equal(firstBlockedFolder('/srv/souk', { uid: -1, gid: -1 }, statOf), '/srv/souk');
  });

  it('when the user is root, then nothing blocks it', () => {
    assert.equal(firstBlockedFolder('/root/souk', { uid: ROOT, gid: ROOT }, statOf), undefined);
  });
});
