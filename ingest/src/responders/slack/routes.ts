import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter } from 'prom-client';
import { Agent, request } from 'undici';
import { CommandNotAppended, registry, type CommandAnswer, type CommandTarget, type Declined, type DirectoryUser } from '@oncall/shared';
import type { ResponderDeps } from '../index.js';
import type { OpenAlerts } from './alerts.js';
import { parseInteraction, type SlackPress } from './payload.js';
import { checkSlackSignature } from './signature.js';
import { alertsText, HELP, parseSlash, whoText } from './slash.js';
import type { SlackUsers } from './users.js';
import { answerText, NO_ANSWER, NO_DIRECTORY, NOT_APPENDED, NOT_LINKED, shortId } from './wording.js';

/** What the Slack routes need besides the responders' common deps. */
export type SlackDeps = Readonly<{
  /** SLACK_SIGNING_SECRET; null: the routes answer 503. */
  signingSecret: string | null;
  /** Slack member → on-call user; null (no user directory): nobody is linked. */
  users: SlackUsers | null;
  /** The read model for `/oncall alerts|ack|resolve`; null: those say it is not available. */
  alerts: OpenAlerts | null;
  /** Who resolved a closed alert (the decider's decline cannot say). */
  resolution: (target: CommandTarget) => Promise<Declined['lastChange']>;
  /** How long a press waits for the decider's answer. Default 10 s. */
  answerTimeoutMs?: number;
}>;

/**
 * Answers to Slack's response_url go through one keep-alive pool with undici's `request`: Node's
 * fetch (a Request, a Response and web streams per call, plus an AbortSignal timer) was the
 * largest CPU cost of a press in ingest (bench:ack).
 */
const responseAgent = new Agent({ connections: 32, keepAliveTimeout: 30_000, headersTimeout: 5000, bodyTimeout: 5000 });

export type PressOutcome = 'changed' | 'declined' | 'not_linked' | 'rejected' | 'invalid' | 'failed';

const presses = new Counter({
  name: 'oncall_ingest_slack_presses_total',
  help: 'Slack button presses and menu choices by outcome (changed, declined, not_linked, rejected = bad signature, invalid, failed)',
  labelNames: ['outcome'],
  registers: [registry],
});
const slashCommands = new Counter({
  name: 'oncall_ingest_slack_commands_total',
  help: 'Slack /oncall commands by subcommand and outcome',
  labelNames: ['command', 'outcome'],
  registers: [registry],
});

const ephemeral = (text: string) => ({ response_type: 'ephemeral', replace_original: false, text });
const header = (req: FastifyRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * Slack interactivity (`/api/v1/slack/interactions`) and the `/oncall` slash command
 * (`/api/v1/slack/commands`). Both check Slack's v0 signature first and append nothing when it
 * fails. A press is answered 200 at once (Slack waits 3 s); the command then goes through the one
 * command path and the person is told the decider's answer through the payload's `response_url`.
 */
export async function slackRoutes(app: FastifyInstance, deps: ResponderDeps): Promise<void> {
  const slack = deps.slack;
  const log = deps.log.child({ surface: 'slack' });
  if (!slack?.signingSecret) log.warn('SLACK_SIGNING_SECRET is not set: the Slack routes answer 503');
  const running = new Set<Promise<void>>();
  /** Work after the answer to Slack; its failure is logged, never an unhandled rejection. */
  const background = (work: Promise<void>): void => {
    const settled = work
      .catch((err: unknown) => log.error({ err }, 'Slack command failed after the answer'))
      .finally(() => running.delete(settled));
    running.add(settled);
  };
  app.addHook('onClose', async () => {
    await Promise.allSettled([...running]);
  });

  /** 503 without a secret, 401 when the signature does not hold; true when the request may go on. */
  const verified = (req: FastifyRequest, reply: FastifyReply): boolean => {
    if (!slack?.signingSecret) {
      void reply
        .code(503)
        .send({ error: { code: 'slack_not_configured', message: 'Slack is not configured here: set SLACK_SIGNING_SECRET' } });
      return false;
    }
    const problem = checkSlackSignature(
      slack.signingSecret,
      { signature: header(req, 'x-slack-signature'), timestamp: header(req, 'x-slack-request-timestamp') },
      req.rawBody ?? '',
      deps.now(),
    );
    if (problem === null) return true;
    log.warn({ problem, url: req.url }, 'Slack request refused: bad signature');
    void reply.code(401).send({ error: { code: `signature_${problem}`, message: `the Slack signature is ${problem}` } });
    return false;
  };

  const tell = async (responseUrl: string | null, text: string, ctx: Record<string, unknown>): Promise<void> => {
    if (responseUrl === null) return;
    try {
      const res = await request(responseUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(ephemeral(text)),
        dispatcher: responseAgent,
      });
      await res.body.dump();
      if (res.statusCode < 200 || res.statusCode > 299)
        log.warn({ ...ctx, status: res.statusCode }, 'Slack response_url refused the answer');
    } catch (err) {
      log.warn({ ...ctx, err }, 'could not post the answer to Slack response_url');
    }
  };

  /** Runs a person's command on the one path; the words to tell them. */
  const run = async (
    target: CommandTarget,
    command: SlackPress['command'],
    slackUserId: string,
    extra: Readonly<{ snoozeSeconds?: number; key?: string }>,
  ): Promise<{ outcome: PressOutcome; text: string }> => {
    const ctx = { alertId: target.alertId, command, slackUserId };
    let user: DirectoryUser | null;
    try {
      user = slack?.users ? await slack.users.bySlackId(slackUserId) : null;
    } catch (err) {
      log.error({ ...ctx, err }, 'user directory unavailable; Slack command not run');
      return { outcome: 'failed', text: NO_DIRECTORY };
    }
    if (user === null) {
      log.info(ctx, 'Slack member not linked to an on-call user; nothing changed');
      return { outcome: 'not_linked', text: NOT_LINKED };
    }
    let answer: CommandAnswer;
    try {
      answer = await deps.commands.submit(
        { target, command, userId: user.id, via: 'slack', ...extra },
        AbortSignal.timeout(slack?.answerTimeoutMs ?? 10_000),
      );
    } catch (err) {
      log.error({ ...ctx, err }, 'Slack command failed');
      return { outcome: 'failed', text: err instanceof CommandNotAppended ? NOT_APPENDED : NO_ANSWER };
    }
    if (answer.outcome === 'declined' && answer.reason === 'closed' && answer.lastChange === null && slack) {
      const lastChange = await slack.resolution(target).catch(() => null);
      answer = { ...answer, lastChange };
    }
    const ids = [user.id, ...(answer.outcome === 'declined' && answer.lastChange?.userId ? [answer.lastChange.userId] : [])];
    await slack?.users?.loadNames(ids);
    const nameOf = slack?.users?.nameOf ?? ((id: string) => id);
    log.info(
      { ...ctx, userId: user.id, outcome: answer.outcome, ...(answer.outcome === 'declined' && { reason: answer.reason }) },
      'Slack command answered',
    );
    return { outcome: answer.outcome, text: answerText({ command, target }, answer, nameOf) };
  };

  app.post('/api/v1/slack/interactions', async (req, reply) => {
    if (!verified(req, reply)) {
      if (slack?.signingSecret) presses.inc({ outcome: 'rejected' });
      return reply;
    }
    const body = (req.body ?? {}) as Record<string, unknown>;
    const interaction = parseInteraction(body.payload);
    if (interaction.kind === 'invalid') {
      presses.inc({ outcome: 'invalid' });
      return reply.code(400).send({ error: { code: 'invalid_payload', message: interaction.error } });
    }
    if (interaction.kind === 'ignored') return reply.code(200).send();
    const press = interaction;
    background(
      run(press.target, press.command, press.slackUserId, {
        key: press.key,
        ...(press.snoozeSeconds !== null && { snoozeSeconds: press.snoozeSeconds }),
      })
        .then(async ({ outcome, text }) => {
          presses.inc({ outcome });
          await tell(press.responseUrl, text, { alertId: press.target.alertId, command: press.command });
        })
        .catch((err: unknown) => {
          presses.inc({ outcome: 'failed' });
          log.error({ err, alertId: press.target.alertId }, 'Slack press failed');
        }),
    );
    return reply.code(200).send();
  });

  app.post('/api/v1/slack/commands', async (req, reply) => {
    if (!verified(req, reply)) return reply;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const text = typeof body.text === 'string' ? body.text : '';
    const slackUserId = typeof body.user_id === 'string' ? body.user_id : '';
    if (slackUserId === '')
      return reply.code(400).send({ error: { code: 'invalid_payload', message: 'the form field "user_id" is missing' } });
    const responseUrl = typeof body.response_url === 'string' && body.response_url !== '' ? body.response_url : null;
    const cmd = parseSlash(text);
    const count = (outcome: string) => slashCommands.inc({ command: cmd.kind === 'act' ? cmd.command : cmd.kind, outcome });
    switch (cmd.kind) {
      case 'help':
        count('ok');
        return ephemeral(HELP);
      case 'invalid':
        count('invalid');
        return ephemeral(`${cmd.error}.\n${HELP}`);
      case 'who': {
        const config = deps.config.state();
        const ids = [...config.schedules.values()].flatMap((s) => s.rotations.flatMap((r) => r.members));
        await slack?.users?.loadNames([...new Set(ids)]);
        count('ok');
        try {
          return ephemeral(whoText(config, cmd.schedule, deps.now(), slack?.users?.nameOf ?? ((id) => id)));
        } catch (err) {
          log.error({ err }, '/oncall who failed');
          return ephemeral('Could not work out who is on call: a schedule is invalid. See the logs.');
        }
      }
      case 'alerts': {
        if (!slack?.alerts) {
          count('unavailable');
          return ephemeral('Listing alerts needs the read model: set DATABASE_URL for ingest.');
        }
        const { rows, total } = await slack.alerts.list(20);
        count('ok');
        return ephemeral(alertsText(rows, total, 20));
      }
      case 'act': {
        if (!slack?.alerts) {
          count('unavailable');
          return ephemeral('Finding an alert by its id needs the read model: set DATABASE_URL for ingest.');
        }
        const found = await slack.alerts.byPrefix(cmd.idPrefix);
        if (found.length !== 1) {
          count(found.length === 0 ? 'not_found' : 'ambiguous');
          return ephemeral(
            found.length === 0
              ? `No open alert has an id starting with \`${cmd.idPrefix}\`.`
              : `More than one open alert starts with \`${cmd.idPrefix}\`: ${found.map((t) => `\`${shortId(t.alertId)}\``).join(', ')}. Give more of the id.`,
          );
        }
        const target = found[0]!;
        // Say so at once rather than "working on it" first (the map is cached).
        const linked = slack.users ? await slack.users.bySlackId(slackUserId).catch(() => undefined) : null;
        if (linked === null) {
          count('not_linked');
          return ephemeral(NOT_LINKED);
        }
        const key = typeof body.trigger_id === 'string' && body.trigger_id !== '' ? `slack-command:${body.trigger_id}` : undefined;
        background(
          run(target, cmd.command, slackUserId, key === undefined ? {} : { key }).then(async ({ outcome, text: said }) => {
            count(outcome);
            await tell(responseUrl, said, { alertId: target.alertId, command: cmd.command });
          }),
        );
        return ephemeral(`Working on it: ${cmd.command === 'resolve' ? 'resolving' : 'acknowledging'} \`${shortId(target.alertId)}\`…`);
      }
      default: {
        const _never: never = cmd;
        return _never;
      }
    }
  });
}
