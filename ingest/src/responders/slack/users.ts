import type { ConfigState, DirectoryUser, Logger, UserDirectory } from '@oncall/shared';

/** Every user id the configuration names: rotation members, overrides, temporary schedules, policy targets. */
export function configuredUserIds(config: ConfigState): string[] {
  const ids = new Set<string>();
  for (const s of config.schedules.values()) {
    for (const r of s.rotations) r.members.forEach((m) => ids.add(m));
    for (const o of s.overrides) {
      ids.add(o.userId);
      if (o.replaces !== null) ids.add(o.replaces);
    }
    for (const t of s.temporary) t.users.forEach((u) => ids.add(u));
  }
  for (const p of config.policies.values())
    for (const step of p.steps) for (const t of step.targets) if (t.type === 'user') ids.add(t.userId);
  return [...ids].sort();
}

/** Slack member id → user, from the users' Slack contact. */
export function slackIndex(users: Iterable<DirectoryUser>): Map<string, DirectoryUser> {
  const index = new Map<string, DirectoryUser>();
  for (const u of users) for (const c of u.contacts) if (c.channel === 'slack' && c.address !== '') index.set(c.address, u);
  return index;
}

/**
 * Who a Slack member is. UserService has no lookup by Slack id (GetUsersByIDs only), so the map
 * is built from the users the configuration names — whoever can be paged — looked up in the
 * directory, and built again when it is older than `refreshMs`, or when an unknown member acts
 * and the last build is older than `missRefreshMs` (someone just linked their account). A Slack
 * member who is in the directory but in no schedule or policy is not found: such a person is not
 * paged either.
 */
export class SlackUsers {
  private index = new Map<string, DirectoryUser>();
  private byId = new Map<string, DirectoryUser>();
  private builtAt = Number.NEGATIVE_INFINITY;
  private building: Promise<void> | null = null;

  constructor(
    private readonly directory: UserDirectory,
    private readonly config: () => ConfigState,
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly opts: Readonly<{ refreshMs: number; missRefreshMs: number }> = { refreshMs: 60_000, missRefreshMs: 5_000 },
  ) {}

  /** The user with this Slack member id, or null. Throws when the directory cannot be asked. */
  async bySlackId(slackId: string): Promise<DirectoryUser | null> {
    const age = this.now() - this.builtAt;
    if (age > this.opts.refreshMs) await this.build();
    let user = this.index.get(slackId) ?? null;
    if (user === null && this.now() - this.builtAt > this.opts.missRefreshMs) {
      await this.build();
      user = this.index.get(slackId) ?? null;
    }
    return user;
  }

  /** A user's name as last read, else the id (answers never wait for the directory). */
  nameOf = (userId: string): string => this.byId.get(userId)?.name ?? userId;

  /** Ensures names are loaded for these ids (best effort). */
  async loadNames(ids: readonly string[]): Promise<void> {
    const missing = ids.filter((id) => !this.byId.has(id));
    if (missing.length === 0) return;
    try {
      const { users } = await this.directory.getUsers(missing);
      for (const u of users.values()) this.byId.set(u.id, u);
    } catch (err) {
      this.log.warn({ err, users: missing.length }, 'user names not available; answering with ids');
    }
  }

  private build(): Promise<void> {
    this.building ??= (async () => {
      try {
        const ids = configuredUserIds(this.config());
        const { users } = await this.directory.getUsers(ids);
        this.index = slackIndex(users.values());
        for (const u of users.values()) this.byId.set(u.id, u);
        this.builtAt = this.now();
        this.log.debug({ users: users.size, slackLinked: this.index.size }, 'Slack user map built');
      } finally {
        this.building = null;
      }
    })();
    return this.building;
  }
}
