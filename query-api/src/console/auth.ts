import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiScope, SessionView } from '@oncall/contracts';
import { LoginRequest } from '@oncall/contracts';
import { apiTokenHash, apiTokenId, UserDirectoryError, type Logger, type UserDirectory } from '@oncall/shared';
import type { StoredToken } from '../domain/auth.js';
import { blocked, recordFailure, type FailureLimit, type Failures } from '../domain/rate-limit.js';
import { HttpError, parsed } from './http-errors.js';
import { login, permits, sessionCaller, SESSION_COOKIE, type ConsoleCaller, type SessionRecord } from './session.js';
import { SessionStore } from './session-store.js';

export type ConsoleAuthDeps = Readonly<{
  sessions: SessionStore;
  tokens: (tokenId: string) => StoredToken | undefined;
  users: UserDirectory | null;
  log: Logger;
  failureLimit: FailureLimit;
  now: () => number;
}>;

export const sessionView = (c: ConsoleCaller): SessionView => ({
  userId: c.userId,
  tokenName: c.tokenName,
  scopes: c.scopes,
  expiresAt: c.expiresAt,
});

/**
 * Sign-in and the session check of every API request (docs/console.md#sign-in). Failed logins are
 * counted per client address as the gRPC interceptor counts failed calls; tokens are never logged.
 */
export class ConsoleAuth {
  private readonly failures = new Map<string, Failures>();

  constructor(private readonly deps: ConsoleAuthDeps) {}

  /** `POST /api/session`: a new session and its cookie. */
  async login(req: FastifyRequest, reply: FastifyReply): Promise<SessionView> {
    const { now, failureLimit, log } = this.deps;
    const address = req.ip;
    const at = now();
    if (blocked(this.failures.get(address), at, failureLimit))
      throw new HttpError(429, 'too many failed sign-ins from this address; retry later');
    const body = parsed(LoginRequest, req.body);
    const token = body.token.trim();
    const outcome = login({ tokenId: apiTokenId(token), hash: apiTokenHash(token) }, body.actAs, this.deps.tokens, at);
    if (!outcome.ok) {
      if (outcome.status === 401) {
        this.failures.set(address, recordFailure(this.failures.get(address), at, failureLimit));
        if (this.failures.size > 10_000) for (const [a, f] of this.failures) if (!blocked(f, at, failureLimit)) this.failures.delete(a);
      }
      log.warn({ reason: outcome.reason, peer: address, tokenId: apiTokenId(token) }, 'console sign-in refused');
      throw new HttpError(outcome.status, outcome.error, outcome.field);
    }
    if (outcome.actAsToCheck !== null) await this.checkUser(outcome.actAsToCheck);
    const id = SessionStore.newId();
    await this.deps.sessions.put(id, outcome.record);
    void reply.setCookie(SESSION_COOKIE, id, {
      httpOnly: true,
      sameSite: 'strict',
      path: '/',
      secure: req.protocol === 'https',
      maxAge: Math.max(1, Math.floor((Date.parse(outcome.record.expiresAt) - at) / 1000)),
    });
    log.info({ tokenId: outcome.record.tokenId, userId: outcome.record.userId, peer: address }, 'console sign-in');
    const checked = sessionCaller(outcome.record, this.deps.tokens, at);
    if (!checked.ok) throw new HttpError(checked.status, checked.error);
    return sessionView(checked.caller);
  }

  /** `DELETE /api/session`. */
  async logout(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const id = req.cookies[SESSION_COOKIE];
    if (id) await this.deps.sessions.delete(id);
    void reply.clearCookie(SESSION_COOKIE, { path: '/' });
  }

  /**
   * The signed-in caller, checked now: 401 without a session or when its token was revoked or
   * expired (the session is deleted then), 403 without the scope.
   */
  async require(req: FastifyRequest, reply: FastifyReply, scope: ApiScope): Promise<ConsoleCaller> {
    const caller = await this.current(req, reply);
    if (!permits(caller, scope)) throw new HttpError(403, `this token lacks the "${scope}" scope`);
    return caller;
  }

  /** The session of a request, or the 401 to answer. */
  async current(req: FastifyRequest, reply: FastifyReply): Promise<ConsoleCaller> {
    const id = req.cookies[SESSION_COOKIE];
    if (!id) throw new HttpError(401, 'not signed in');
    const record: SessionRecord | null = await this.deps.sessions.get(id);
    if (!record) {
      void reply.clearCookie(SESSION_COOKIE, { path: '/' });
      throw new HttpError(401, 'session ended; sign in again');
    }
    const checked = sessionCaller(record, this.deps.tokens, this.deps.now());
    if (!checked.ok) {
      await this.deps.sessions.delete(id);
      void reply.clearCookie(SESSION_COOKIE, { path: '/' });
      this.deps.log.info({ tokenId: record.tokenId, reason: checked.reason }, 'console session ended');
      throw new HttpError(401, checked.error);
    }
    return checked.caller;
  }

  /** Whether a session still holds (a live stream asks now and then). */
  async stillValid(id: string): Promise<boolean> {
    const record = await this.deps.sessions.get(id);
    return record !== null && sessionCaller(record, this.deps.tokens, this.deps.now()).ok;
  }

  /** The admin's `actAs` user exists (UserService), as the CLI's --user is checked. */
  private async checkUser(userId: string): Promise<void> {
    const { users } = this.deps;
    if (!users) return;
    let missing: string[];
    try {
      ({ missing } = await users.getUsers([userId]));
    } catch (err) {
      if (err instanceof UserDirectoryError) throw new HttpError(503, `cannot check actAs: ${err.message}`, 'actAs');
      throw err;
    }
    if (missing.includes(userId)) throw new HttpError(400, `actAs: user ${userId} does not exist`, 'actAs');
  }
}
