import type { Logger } from '@oncall/shared';
import type { Delivery, NotificationRequested } from '../domain/plan.js';
import { notificationActionUrl, type ActionLinks } from './action-links.js';

/**
 * The console channel: with no provider configured for a channel (the embedded default of
 * `oncall up`), a page is printed on the dispatcher's stdout instead of failing with
 * channel_not_configured, so a first run shows who would have been paged and the link to act.
 */
export type ConsoleChannel = Readonly<{
  /** Prints the page; returns the id it is recorded under. */
  print(n: NotificationRequested, delivery: Delivery, bundled: number, nowMs: number): string;
}>;

const RULE = '─'.repeat(72);

/** One readable block per page: who, the alert, the action link. */
export function consoleBlock(n: NotificationRequested, delivery: Delivery, bundled: number, actionUrl: string | null): string {
  const a = n.alert;
  const r = n.recipient;
  const who =
    r.type === 'user'
      ? `${n.userName ? `${n.userName} (${r.userId})` : r.userId}`
      : r.type === 'slack'
        ? `Slack channel ${r.channel}`
        : 'a webhook';
  const head = n.kind === 'resolved' ? 'RESOLVED' : a.severity.toUpperCase();
  // Addresses of webhooks often carry a secret: not printed.
  const address = delivery.channel === 'webhook' ? '' : ` ${delivery.address}`;
  const lines = [
    `┌${RULE}`,
    `│ ${n.kind === 'resolved' ? 'RESOLVED NOTICE' : 'PAGE'} (console channel: no ${delivery.channel} provider is configured)`,
    `│ to:      ${who} by ${delivery.channel}${address}`,
    `│ alert:   [${head}] ${a.serviceName}: ${a.summary}${bundled > 1 ? ` (and ${bundled - 1} more)` : ''}`,
    `│ status:  ${a.status}, step ${n.step + 1} of ${n.escalation.totalSteps} of ${n.escalation.policyName}`,
    `│ id:      ${a.alertId}`,
    `│ act:     ${actionUrl ?? '(set ONCALL_PUBLIC_URL and ONCALL_ACTION_SECRET for an action link)'}`,
    `└${RULE}`,
  ];
  // One line per row even if a summary holds line breaks.
  return `${lines.map((l) => l.replace(/[\r\n]+/g, ' ')).join('\n')}\n`;
}

export function consoleChannel(opts: { write?: (text: string) => void; links: ActionLinks | null; log: Logger }): ConsoleChannel {
  const write = opts.write ?? ((text: string) => void process.stdout.write(text));
  return {
    print(n, delivery, bundled, nowMs) {
      const url = opts.links ? notificationActionUrl(opts.links, n, delivery.channel, nowMs) : null;
      write(consoleBlock(n, delivery, bundled, url));
      opts.log.debug({ alertId: n.alert.alertId, channel: delivery.channel, stage: 'send' }, 'page printed on the console channel');
      return `console:${delivery.idempotencyKey}`;
    },
  };
}
