import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { TicketState } from '@oncall/contracts';
import { z } from 'zod';
import { InboundRejected, type InboundChange, type InboundRequest } from '../types.js';
import { stateOf } from './status.js';
import { plainText } from './text.js';

/**
 * Jira's webhooks. Jira Cloud signs an admin webhook that has a secret with HMAC-SHA256 over the
 * raw body in `X-Hub-Signature: sha256=<hex>`; Jira Server / Data Center cannot sign, so its
 * webhook URL carries the secret as `?secret=`. Both are compared in constant time.
 */
export function verifyWebhook(request: InboundRequest, secret: string): void {
  const header = request.headers['x-hub-signature'];
  const signature = Array.isArray(header) ? header[0] : header;
  if (signature !== undefined) {
    const match = /^sha256=([0-9a-f]{64})$/i.exec(signature.trim());
    const expected = createHmac('sha256', secret).update(request.body).digest();
    if (match?.[1] === undefined || !timingSafeEqual(Buffer.from(match[1], 'hex'), expected)) {
      throw new InboundRejected('Jira webhook signature (X-Hub-Signature) does not match the secret', 401);
    }
    return;
  }
  const token = request.query.get('secret');
  if (token !== null) {
    const digest = (s: string) => createHash('sha256').update(s).digest();
    if (!timingSafeEqual(digest(token), digest(secret))) throw new InboundRejected('Jira webhook ?secret= does not match', 401);
    return;
  }
  throw new InboundRejected('Jira webhook is unsigned: neither X-Hub-Signature nor ?secret= was sent', 401);
}

const User = z
  .object({
    displayName: z.string().optional(),
    emailAddress: z.string().optional(),
    accountId: z.string().optional(),
    name: z.string().optional(),
  })
  .passthrough();

/** Ids are strings in Cloud payloads; some Server / Data Center versions send numbers. */
const Id = z.union([z.string(), z.number()]).transform(String);

const Payload = z
  .object({
    timestamp: z.number(),
    webhookEvent: z.string(),
    user: User.optional(),
    issue: z
      .object({
        id: Id,
        key: z.string(),
        fields: z
          .object({
            status: z
              .object({ name: z.string(), statusCategory: z.object({ key: z.string() }).passthrough().optional() })
              .passthrough()
              .optional(),
            labels: z.array(z.string()).optional(),
          })
          .passthrough()
          .default({}),
      })
      .passthrough(),
    changelog: z
      .object({ id: Id, items: z.array(z.object({ field: z.string() }).passthrough()) })
      .passthrough()
      .optional(),
    comment: z.object({ id: Id, body: z.unknown(), author: User.optional() }).passthrough().optional(),
  })
  .passthrough();
type Payload = z.infer<typeof Payload>;

const ALERT_LABEL = /^oncall-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

/**
 * The changes in a verified webhook body: a status change (`jira:issue_updated` whose changelog
 * moves `status`) and a comment (`comment_created`, or one added along with an update). A comment's
 * changeId is its id alone, so the same comment reported by both events is one change. Other
 * events give nothing. Pure.
 */
export function parseWebhook(body: Buffer, statusMap: Readonly<Record<string, TicketState>>): InboundChange[] {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new InboundRejected('Jira webhook body is not JSON', 400);
  }
  const parsed = Payload.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new InboundRejected(
      `Jira webhook body is not an issue event: ${first?.path.join('.') ?? ''} ${first?.message ?? ''}`.trim(),
      400,
    );
  }
  const event = parsed.data;
  const isUpdate = event.webhookEvent === 'jira:issue_updated' || event.webhookEvent === 'issue_updated';
  const isComment = event.webhookEvent === 'comment_created' || (isUpdate && event.comment !== undefined);
  const statusMoved = isUpdate && (event.changelog?.items.some((i) => i.field === 'status') ?? false);
  if (!statusMoved && !isComment) return [];

  const status = event.issue.fields.status;
  if (status === undefined) throw new InboundRejected(`Jira webhook for ${event.issue.key} carries no issue status`, 400);
  const base = {
    ticketKey: event.issue.key,
    alertId: alertIdOf(event.issue.fields.labels ?? []),
    status: status.name,
    state: stateOf({ name: status.name, categoryKey: status.statusCategory?.key ?? null }, statusMap),
  };
  const changes: InboundChange[] = [];
  if (statusMoved && event.changelog !== undefined) {
    changes.push({
      ...base,
      actor: actorOf(event.user),
      comment: null,
      changeId: `${event.timestamp}:${event.issue.id}:${event.changelog.id}`,
    });
  }
  if (isComment && event.comment !== undefined) {
    changes.push({
      ...base,
      actor: actorOf(event.comment.author ?? event.user),
      comment: plainText(event.comment.body),
      changeId: `${event.issue.id}:comment:${event.comment.id}`,
    });
  }
  return changes;
}

function alertIdOf(labels: readonly string[]): string | null {
  for (const label of labels) {
    const match = ALERT_LABEL.exec(label);
    if (match?.[1] !== undefined) return match[1].toLowerCase();
  }
  return null;
}

function actorOf(user: Payload['user']): string | null {
  if (user === undefined) return null;
  return user.displayName ?? user.emailAddress ?? user.accountId ?? user.name ?? null;
}
