import type { AlertView } from '@oncall/shared';
import { slackEscape } from '../escape.js';
import { slackActionsBlock, type SlackBlock, type SlackMessage } from './slack.js';

const plain = (text: string) => ({ type: 'plain_text', text: text.slice(0, 150), emoji: true });
const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });

const slackDate = (iso: string): string => {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${iso}>` : slackEscape(iso);
};

/** "Acknowledged by Alice via sms", "Resolved by the source", "Snoozed by Bob via slack until …". */
export function changeLine(change: NonNullable<AlertView['lastChange']>, nameOf: (userId: string) => string): string {
  const action = change.action.charAt(0).toUpperCase() + change.action.slice(1);
  const who = change.userId === null ? (change.action === 'reopened' ? null : 'the source') : nameOf(change.userId);
  const parts = [action];
  if (who !== null) parts.push(`by ${slackEscape(who)}`);
  const via = change.via ?? change.reason;
  if (via !== null) parts.push(`via ${slackEscape(via)}`);
  if (change.until !== null) parts.push(`until ${slackDate(change.until)}`);
  return `${parts.join(' ')} · ${slackDate(change.at)}`;
}

/**
 * The alert's Slack message as it stands now, for `chat.update`: state, who acted and how, and
 * the buttons that still make sense (none once resolved). `view.severity` is the effective
 * severity; `sourceSeverity` the source's, named too when it differs.
 */
export function slackStatusMessage(
  view: AlertView,
  serviceName: string,
  nameOf: (userId: string) => string,
  publicUrl: string | null,
  sourceSeverity: string = view.severity,
  /** Alerts of the incident this page stands for (docs/noc.md); 0 or 1: none joined it. */
  incidentAlerts = 0,
): SlackMessage {
  const severity = sourceSeverity === view.severity ? view.severity : `${view.severity} (source: ${sourceSeverity})`;
  const resolved = view.status === 'resolved';
  const icon = { triggered: '🚨', acknowledged: '👀', snoozed: '💤', resolved: '✅' }[view.status];
  const blocks: SlackBlock[] = [
    { type: 'header', text: plain(`${icon} ${resolved ? 'Resolved: ' : ''}${view.summary}`) },
    {
      type: 'section',
      fields: [
        mrkdwn(`*Severity:*\n${slackEscape(severity)}`),
        mrkdwn(`*Service:*\n${slackEscape(serviceName)}`),
        mrkdwn(`*Status:*\n${view.status}`),
      ],
    },
  ];
  if (incidentAlerts > 1)
    blocks.push({
      type: 'context',
      elements: [mrkdwn(`*+${incidentAlerts - 1} more alerts* joined this incident (not paged separately)`)],
    });
  if (view.lastChange !== null) blocks.push({ type: 'context', elements: [mrkdwn(changeLine(view.lastChange, nameOf))] });
  const url = publicUrl === null ? null : `${publicUrl.replace(/\/$/, '')}/alerts/${view.alertId}`;
  const actions = slackActionsBlock({ alertId: view.alertId, serviceId: view.serviceId, fingerprint: view.fingerprint }, view.status, url);
  if (actions !== null) blocks.push(actions);
  const head = resolved ? 'RESOLVED' : view.status === 'triggered' ? view.severity.toUpperCase() : view.status.toUpperCase();
  return { text: slackEscape(`[${head}] ${serviceName}: ${view.summary}`), blocks };
}
