import { hostname } from 'node:os';
import { z } from 'zod';
import { actionSecretEnv, commonEnv, parseEnv, port } from '@oncall/shared';
import { DEFAULT_OPTIONS, type DispatcherOptions } from './options.js';
import {
  emailNotifier,
  parseSmtpUrl,
  slackNotifier,
  teamsNotifier,
  twilioNotifiers,
  webhookNotifier,
  type Notifiers,
} from './notifiers/index.js';
import { clientCredentialsTokens } from './notifiers/graph-token.js';

const optional = z.string().min(1).optional();

/** Every provider is optional: a channel without settings records its deliveries as failed (channel_not_configured). */
export const DispatcherConfig = z
  .object({
    NATS_URL: commonEnv.NATS_URL,
    ONCALL_REPLICAS: commonEnv.ONCALL_REPLICAS,
    METRICS_PORT: port(9104),
    DISPATCHER_ID: z.string().min(1).default(`${hostname()}:dispatcher`),
    /** The base URL people reach this system at (ingest's port): the links in every message. */
    ONCALL_PUBLIC_URL: z.string().url().optional(),
    /** The NOC console (query-api's CONSOLE_PORT as people reach it): every message's "Open" link goes to its alert page. */
    ONCALL_CONSOLE_URL: z.string().url().optional(),
    /** The older name of ONCALL_PUBLIC_URL, still read. */
    PUBLIC_URL: z.string().url().optional(),
    /** Signs the action link in every message (shared with ingest, which checks it). */
    ONCALL_ACTION_SECRET: actionSecretEnv,
    /** 1: a channel without a provider prints its pages on stdout instead of failing them (on in `oncall up`). */
    ONCALL_CONSOLE_CHANNEL: z
      .enum(['0', '1', 'true', 'false'])
      .default('0')
      .transform((v) => v === '1' || v === 'true'),
    NOTIFIER_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
    /** Redelivery of a notification whose handler died (set when the consumer is first created). */
    DISPATCHER_ACK_WAIT_MS: z.coerce.number().int().min(1000).default(15_000),
    /** A delivery claim not refreshed for this long (its process stopped mid-send) is taken over and sent again. */
    DISPATCHER_CLAIM_STALE_MS: z.coerce.number().int().min(1000).default(15_000),
    SLACK_TOKEN: optional,
    SLACK_API_URL: z.string().url().optional(),
    /** Slack's per-workspace budget for chat.postMessage across all channels (the provider bucket). */
    SLACK_MESSAGES_PER_MINUTE: z.coerce.number().int().min(1).default(3000),
    /** A static Graph token; or the app registration below (OAuth client credentials, refreshed). */
    /** UserService (host:port), for names in edited Slack messages ("Acknowledged by …"); unset: user ids. */
    USER_SERVICE_URL: z.string().min(1).optional(),
    GRAPH_TOKEN: optional,
    GRAPH_TENANT_ID: optional,
    GRAPH_CLIENT_ID: optional,
    GRAPH_CLIENT_SECRET: optional,
    /** Token endpoint base (default https://login.microsoftonline.com). */
    GRAPH_AUTHORITY_URL: z.string().url().optional(),
    GRAPH_BASE_URL: z.string().url().startsWith('https://', 'the Graph SDK sends its token over https only').optional(),
    TWILIO_ACCOUNT_SID: optional,
    TWILIO_AUTH_TOKEN: optional,
    TWILIO_FROM: optional,
    TWILIO_MESSAGING_SERVICE_SID: optional,
    TWILIO_API_URL: z.string().url().optional(),
    SMTP_URL: z.string().url().optional(),
    SMTP_FROM: optional,
    SMTP_REQUIRE_TLS: z.enum(['true', 'false']).default('false'),
    WEBHOOK_SIGNING_SECRET: optional,
  })
  .superRefine((c, ctx) => {
    const twilio = [c.TWILIO_ACCOUNT_SID, c.TWILIO_AUTH_TOKEN, c.TWILIO_FROM].filter(Boolean).length;
    if (twilio > 0 && twilio < 3)
      ctx.addIssue({
        code: 'custom',
        path: ['TWILIO_ACCOUNT_SID'],
        message: 'set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM together',
      });
    const graphApp = [c.GRAPH_TENANT_ID, c.GRAPH_CLIENT_ID, c.GRAPH_CLIENT_SECRET].filter(Boolean).length;
    if (graphApp > 0 && graphApp < 3)
      ctx.addIssue({
        code: 'custom',
        path: ['GRAPH_TENANT_ID'],
        message: 'set GRAPH_TENANT_ID, GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET together',
      });
    if (graphApp === 3 && c.GRAPH_TOKEN)
      ctx.addIssue({
        code: 'custom',
        path: ['GRAPH_TOKEN'],
        message: 'set GRAPH_TOKEN or the GRAPH_TENANT_ID/CLIENT_ID/CLIENT_SECRET app, not both',
      });
    if (c.SMTP_URL && !c.SMTP_FROM) ctx.addIssue({ code: 'custom', path: ['SMTP_FROM'], message: 'SMTP_URL needs SMTP_FROM' });
  });
export type DispatcherConfig = z.infer<typeof DispatcherConfig>;

export const loadDispatcherConfig = (env?: NodeJS.ProcessEnv) => parseEnv(DispatcherConfig, env);

/** The public URL from ONCALL_PUBLIC_URL, else the older PUBLIC_URL. */
export const publicUrlOf = (c: DispatcherConfig): string | null => c.ONCALL_PUBLIC_URL ?? c.PUBLIC_URL ?? null;

/** The provider buckets: the defaults with the configured Slack budget (a one-second burst). */
export function providerLimits(c: DispatcherConfig): DispatcherOptions['perProvider'] {
  const perMinute = c.SLACK_MESSAGES_PER_MINUTE;
  return { ...DEFAULT_OPTIONS.perProvider, slack: { capacity: Math.max(1, Math.round(perMinute / 60)), perMinute } };
}

/** The notifiers the settings enable. */
export function notifiersFrom(c: DispatcherConfig): Notifiers {
  const timeoutMs = c.NOTIFIER_TIMEOUT_MS;
  const notifiers: Notifiers = { webhook: webhookNotifier({ signingSecret: c.WEBHOOK_SIGNING_SECRET, timeoutMs }) };
  if (c.SLACK_TOKEN) notifiers.slack = slackNotifier({ token: c.SLACK_TOKEN, apiUrl: c.SLACK_API_URL, timeoutMs });
  if (c.GRAPH_TENANT_ID && c.GRAPH_CLIENT_ID && c.GRAPH_CLIENT_SECRET) {
    const tokens = clientCredentialsTokens({
      tenantId: c.GRAPH_TENANT_ID,
      clientId: c.GRAPH_CLIENT_ID,
      clientSecret: c.GRAPH_CLIENT_SECRET,
      authorityUrl: c.GRAPH_AUTHORITY_URL,
      timeoutMs,
    });
    notifiers.teams = teamsNotifier({ token: tokens, baseUrl: c.GRAPH_BASE_URL, timeoutMs });
  } else if (c.GRAPH_TOKEN) notifiers.teams = teamsNotifier({ token: c.GRAPH_TOKEN, baseUrl: c.GRAPH_BASE_URL, timeoutMs });
  if (c.TWILIO_ACCOUNT_SID && c.TWILIO_AUTH_TOKEN && c.TWILIO_FROM) {
    const { sms, voice } = twilioNotifiers({
      accountSid: c.TWILIO_ACCOUNT_SID,
      authToken: c.TWILIO_AUTH_TOKEN,
      from: c.TWILIO_FROM,
      messagingServiceSid: c.TWILIO_MESSAGING_SERVICE_SID,
      apiUrl: c.TWILIO_API_URL,
      timeoutMs,
    });
    notifiers.sms = sms;
    notifiers.voice = voice;
  }
  if (c.SMTP_URL && c.SMTP_FROM)
    notifiers.email = emailNotifier({
      ...parseSmtpUrl(c.SMTP_URL),
      from: c.SMTP_FROM,
      requireTLS: c.SMTP_REQUIRE_TLS === 'true',
      timeoutMs,
    });
  return notifiers;
}
