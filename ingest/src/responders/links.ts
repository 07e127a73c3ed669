import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Severity } from '@oncall/contracts';
import {
  CommandNotAppended,
  effectiveSeverity,
  foldAlert,
  verifyActionToken,
  type ActionLink,
  type AlertView,
  type CommandTarget,
} from '@oncall/shared';
import { answerText } from './answers.js';
import type { ResponderDeps } from './index.js';
import { alertPage, answerPage, PAGE_COMMANDS, problemPage, SNOOZE_CHOICES, type PageCommand } from './link-page.js';

/** How long a button press waits for the decider's answer before saying it is still on its way. */
export const LINK_ANSWER_TIMEOUT_MS = 10_000;
const MAX_NOTE = 1000;

// The token is a capability: never cached, never sent on as a Referer, never framed or indexed.
const HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'x-robots-tag': 'noindex, nofollow',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
};

type Params = { Params: { token: string } };

class PageError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    text: string,
  ) {
    super(text);
  }
}

/**
 * The action links every page carries (`/a/<token>`): GET shows the alert and buttons, POST runs
 * the pressed button's command as the user the link was sent to, through the one command path.
 */

export async function linkRoutes(app: FastifyInstance, deps: ResponderDeps): Promise<void> {
  const secrets = deps.actionSecrets ?? [];
  const log = deps.log.child({ surface: 'link' });

  const send = (reply: FastifyReply, status: number, html: string) => reply.code(status).headers(HEADERS).send(html);

  const verified = (token: string): ActionLink => {
    if (secrets.length === 0) throw new PageError(404, 'Action links are off', 'This installation has no ONCALL_ACTION_SECRET set.');
    const v = verifyActionToken(token, secrets, deps.now());
    if (v.ok) return v.link;
    if (v.problem === 'expired')
      throw new PageError(410, 'This link has expired', 'Action links work for 7 days. Open the alert from a newer page.');
    throw new PageError(403, 'This link is not valid', 'The link is incomplete or was changed. Open it again from the page you received.');
  };

  const view = async (link: ActionLink): Promise<AlertView | null> => {
    if (!deps.alertEvents) return null;
    const target: CommandTarget = { alertId: link.alertId, serviceId: link.serviceId, fingerprint: link.fingerprint };
    const [events, routed] = await Promise.all([deps.alertEvents(target), deps.alertRoute?.(target) ?? null]);
    const alert = foldAlert(events);
    // The severity the pages showed: the route's equipment type or rule over the source's (docs/routing.md).
    return alert && { ...alert, severity: effectiveSeverity(alert.severity as Severity, routed, routed?.alert.severity) };
  };

  /** The command and its answer; a command the log refused or that got no answer in time is a page saying which. */
  const submit = async (req: Parameters<ResponderDeps['commands']['submit']>[0]) => {
    const timeout = AbortSignal.timeout(LINK_ANSWER_TIMEOUT_MS);
    try {
      return await deps.commands.submit(req, timeout);
    } catch (err) {
      if (err instanceof CommandNotAppended)
        throw new PageError(503, 'Not sent', 'The event log did not take the action, so nothing changed. Try again in a moment.');
      if (timeout.aborted)
        throw new PageError(503, 'No answer yet', 'Your action was sent but its outcome is not known yet. Reload the alert in a moment.');
      throw err;
    }
  };

  const handle =
    (run: (req: FastifyRequest<Params>, reply: FastifyReply) => Promise<FastifyReply>) =>
    async (req: FastifyRequest<Params>, reply: FastifyReply) => {
      try {
        return await run(req, reply);
      } catch (err) {
        if (err instanceof PageError) {
          const level = err.status >= 500 ? 'warn' : 'info';
          log[level]({ status: err.status, problem: err.title, method: req.method }, 'action link refused');
          return send(reply, err.status, problemPage(err.title, err.message));
        }
        log.error({ err, method: req.method }, 'action link failed');
        return send(reply, 500, problemPage('Something went wrong', 'Nothing was changed by this page. Try again in a moment.'));
      }
    };

  app.get<Params>(
    '/a/:token',
    handle(async (req, reply) => {
      const link = verified(req.params.token);
      const v = await view(link);
      if (!v) throw new PageError(404, 'Alert not found', 'The log has no such alert (any more).');
      return send(reply, 200, alertPage(v, link));
    }),
  );

  app.post<Params>(
    '/a/:token',
    handle(async (req, reply) => {
      const link = verified(req.params.token);
      if (!link.userId) throw new PageError(403, 'This link cannot act', 'It was sent to a channel, not a person: act from your own page.');
      const form = parseForm(req.body);
      const target: CommandTarget = { alertId: link.alertId, serviceId: link.serviceId, fingerprint: link.fingerprint };
      const alog = log.child({ alertId: link.alertId, userId: link.userId, command: form.command });
      const answer = await submit({
        target,
        command: form.command,
        userId: link.userId,
        via: link.via,
        ...(form.note !== '' && { note: form.note }),
        ...(form.snoozeSeconds !== undefined && { snoozeSeconds: form.snoozeSeconds }),
      });
      alog.info(
        { outcome: answer.outcome, ...(answer.outcome === 'declined' && { reason: answer.reason }) },
        'action link command answered',
      );
      const now = await view(link);
      return send(reply, 200, answerPage(answerText(form.command, answer, now), now));
    }),
  );
}

type Form = { command: PageCommand; snoozeSeconds?: number; note: string };

/** The pressed button, checked before anything is appended. */
function parseForm(body: unknown): Form {
  const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const command = fields.command;
  if (typeof command !== 'string' || !(PAGE_COMMANDS as readonly string[]).includes(command))
    throw new PageError(400, 'Unknown action', `Send command=${PAGE_COMMANDS.join('|')} as a form post.`);
  const note = typeof fields.note === 'string' ? fields.note.trim() : '';
  if (note.length > MAX_NOTE) throw new PageError(400, 'Note too long', `A note is at most ${MAX_NOTE} characters.`);
  if (command !== 'snooze') return { command: command as PageCommand, note };
  const choice = typeof fields.for === 'string' ? SNOOZE_CHOICES[fields.for] : undefined;
  if (!choice) throw new PageError(400, 'Unknown snooze length', `Choose for=${Object.keys(SNOOZE_CHOICES).join('|')}.`);
  return { command: 'snooze', snoozeSeconds: choice.seconds, note };
}
