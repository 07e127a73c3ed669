import { backoffMs, type DirectoryUser, type Logger, type UserDirectory } from '@oncall/shared';

const CACHE_MS = 30_000;
const RETRY = { baseMs: 500, maxMs: 5000 };

/**
 * The users decisions read (names and contact methods, from kneutral-api's UserService): loaded
 * on demand, forgotten every 30 s so changed contact methods are picked up. A lookup that fails
 * is retried with back-off until the directory answers: decisions wait, nothing is skipped.
 */
export class UserCache {
  private users = new Map<string, DirectoryUser | null>();
  private loadedAt = 0;

  constructor(
    private readonly directory: UserDirectory,
    private readonly log: Logger,
  ) {}

  /** A user as the pure rules see it: `undefined` when not loaded, `null` when the directory does not know them. */
  readonly user = (id: string): DirectoryUser | null | undefined => this.users.get(id);

  /** Forgets every user once the cache is older than 30 s at `now`. */
  refresh(now: number): void {
    if (now - this.loadedAt <= CACHE_MS) return;
    this.users = new Map();
    this.loadedAt = now;
  }

  /** Loads `ids`; true once loaded, false when `cancelled()` said to give up between attempts. */
  async load(ids: readonly string[], cancelled: () => boolean): Promise<boolean> {
    for (let attempt = 1; !cancelled(); attempt++) {
      try {
        const found = await this.directory.getUsers(ids);
        for (const id of ids) this.users.set(id, found.users.get(id) ?? null);
        return true;
      } catch (err) {
        const retryInMs = backoffMs(attempt, Math.random(), RETRY);
        this.log.warn({ err, users: ids, retryInMs }, 'user directory lookup failed; decisions wait and it is retried');
        await new Promise((resolve) => setTimeout(resolve, retryInMs).unref());
      }
    }
    return false;
  }
}
