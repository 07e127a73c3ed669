import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AlertEvent, EventData } from '@oncall/contracts';
import type { AlertCommandPath, CommandTarget, ConfigView, Logger } from '@oncall/shared';
import { linkRoutes } from './links.js';
import { slackRoutes, type SlackDeps } from './slack.js';
import { twilioRoutes, type TwilioResponderDeps } from './twilio.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** A form post's body as sent: Slack's and Twilio's signatures are over it. */
    rawBody?: string;
  }
}

/** What the surfaces people answer pages from need. */
export type ResponderDeps = Readonly<{
  /** The one command path (shared/commands.ts). */
  commands: AlertCommandPath;
  config: ConfigView;
  log: Logger;
  /** Base of the links we hand out (ONCALL_PUBLIC_URL); Twilio signs requests against it. */
  publicUrl: string | null;
  now: () => number;
  /** Twilio SMS/voice/status routes; absent: they answer 503 (not configured). */
  twilio?: TwilioResponderDeps | null;
  /** Action links are checked against these: ONCALL_ACTION_SECRET, then ONCALL_ACTION_SECRET_PREVIOUS. None: links are refused. */
  actionSecrets?: readonly string[];
  /** The alert's events from the log, in order (the action page shows the alert as they tell it). */
  alertEvents?: (target: CommandTarget) => Promise<AlertEvent[]>;
  /** The alert's latest AlertRouted, for its effective severity; absent: the source's severity is shown. */
  alertRoute?: (target: CommandTarget) => Promise<EventData<'AlertRouted'> | null>;
  /** Slack's signing secret, user map and read model (responders/slack); absent: the Slack routes answer 503. */
  slack?: SlackDeps;
}>;

/** Form posts are small: a Slack payload or a Twilio callback is a few KiB. */
export const FORM_BODY_LIMIT = 64 * 1024;

/**
 * The routes people answer pages on — Slack interactivity and commands, Twilio SMS and voice,
 * the action links of e-mail and every other channel — in a scope that reads form posts,
 * keeping the raw body for the signature checks.
 */
export async function registerResponders(app: FastifyInstance, deps: ResponderDeps): Promise<void> {
  await app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
      (req: FastifyRequest, body: string | Buffer, done) => {
        const text = typeof body === 'string' ? body : body.toString('utf8');
        req.rawBody = text;
        done(null, Object.fromEntries(new URLSearchParams(text)));
      },
    );
    await slackRoutes(scope, deps);
    await twilioRoutes(scope, deps);
    await linkRoutes(scope, deps);
  });
}
