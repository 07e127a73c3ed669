/** Whether a user can enter (traverse) every folder of an absolute POSIX path. Pure: the file system comes in as a function. */

/** A user as the kernel checks permissions: uid and every group id. */
export type Account = Readonly<{ uid: number; gids: readonly number[] }>;

/** What `stat` tells of a folder; undefined when it does not exist (yet). */
export type FolderMode = Readonly<{ mode: number; uid: number; gid: number }>;

/** The permission class that applies to the user, and the chmod that would let it in. */
export type ClosedFolder = Readonly<{ path: string; mode: number; uid: number; fix: 'u+x' | 'g+x' | 'o+x' }>;

/** `/a/b/c` → `/`, `/a`, `/a/b`, `/a/b/c`. */
export function folderChain(path: string): string[] {
  if (!path.startsWith('/')) throw new Error(`not an absolute path: ${path}`);
  const parts = path.split('/').filter(Boolean);
  return ['/', ...parts.map((_, i) => `/${parts.slice(0, i + 1).join('/')}`)];
}

/**
 * The first folder on `path` (from `/` down, `path` itself included) that `account` cannot
 * enter, or undefined. As the kernel does: the owner's bits if the account owns the folder,
 * else the group's if it is in the folder's group, else the others'. Folders that do not exist
 * are skipped (they are created later). Root enters everything.
 */
export function closedFolder(path: string, account: Account, stat: (folder: string) => FolderMode | undefined): ClosedFolder | undefined {
  if (account.uid === 0) return undefined;
  for (const folder of folderChain(path)) {
    const s = stat(folder);
    if (!s) continue;
    const [bit, fix] =
      s.uid === account.uid
        ? ([0o100, 'u+x'] as const)
        : account.gids.includes(s.gid)
          ? ([0o010, 'g+x'] as const)
          : ([0o001, 'o+x'] as const);
    if ((s.mode & bit) === 0) return { path: folder, mode: s.mode & 0o7777, uid: s.uid, fix };
  }
  return undefined;
}
