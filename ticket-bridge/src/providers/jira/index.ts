import { ProviderError, InboundRejected, type TicketProvider, type TicketRef, type ProviderContext } from '../types.js';
import { jiraClient, type JiraClient } from './client.js';
import { createFields, description } from './fields.js';
import { parseSettings, validateJiraConfig } from './settings.js';
import { parseWebhook, verifyWebhook } from './webhook.js';

/**
 * Jira Cloud (REST v3) and Server / Data Center (REST v2): issues carry the idempotency key as a
 * label, found again by JQL; transitions by name; comments; Jira webhooks in (docs/tickets.md).
 */
export const jiraProvider: TicketProvider = {
  type: 'jira',
  capabilities: ['create', 'update', 'sync', 'webhook'],
  requiredFields: ['summary'],
  validateConfig: validateJiraConfig,

  async find(ctx, idempotencyKey) {
    const jira = jiraClient(ctx);
    const { project, apiVersion } = jira.settings;
    const query = new URLSearchParams({
      jql: `project = "${project}" AND labels = "${safeLabel(idempotencyKey)}"`,
      fields: 'summary,status,labels',
      maxResults: '2',
    });
    // Jira Cloud removed GET /rest/api/3/search; /search/jql is its successor. Server / DC keeps /search.
    const path = apiVersion === '3' ? '/search/jql' : '/search';
    const found = await jira.call<{ issues?: { id: string; key: string }[] }>(
      'GET',
      `${path}?${query.toString()}`,
      `search ${project} for ${idempotencyKey}`,
    );
    const issue = found?.issues?.[0];
    return issue === undefined ? null : ref(jira, issue);
  },

  async create(ctx, { alert, fields, idempotencyKey }) {
    const jira = jiraClient(ctx);
    safeLabel(idempotencyKey);
    const body = { fields: createFields(jira.settings, alert, fields, idempotencyKey) };
    const created = await jira.call<{ id?: unknown; key?: unknown }>('POST', '/issue', `create an issue in ${jira.settings.project}`, body);
    if (typeof created?.id !== 'string' || typeof created.key !== 'string') {
      throw new ProviderError('Jira answered the create without an issue id and key', false);
    }
    return ref(jira, { id: created.id, key: created.key });
  },

  async update(ctx, ticket, change) {
    const jira = jiraClient(ctx);
    if (change.transition !== null) await transition(jira, ticket.key, change.transition);
    if (change.comment !== null && change.comment.trim() !== '') {
      const body = { body: description(jira.settings.apiVersion, change.comment, []) };
      await jira.call('POST', `/issue/${encodeURIComponent(ticket.key)}/comment`, `comment on ${ticket.key}`, body);
    }
  },

  async receive(ctx, request) {
    if (ctx.config.inboundSecret === null) throw new InboundRejected('no inboundSecret is configured for this Jira provider', 401);
    verifyWebhook(request, ctx.secret(ctx.config.inboundSecret));
    return parseWebhook(request.body, parseSettings(ctx.config).statusMap);
  },

  async check(ctx: ProviderContext) {
    await jiraClient(ctx).call('GET', '/myself', 'check the credentials');
  },
};

interface Transition {
  id: string;
  name: string;
  to?: { name?: string };
}

/**
 * Applies the transition named `name` (or the one leading to the status of that name). An issue
 * already in that status is left alone: a retried update must not fail on its own earlier success.
 */
async function transition(jira: JiraClient, key: string, name: string): Promise<void> {
  const path = `/issue/${encodeURIComponent(key)}/transitions`;
  const { transitions = [] } = await jira.call<{ transitions?: Transition[] }>('GET', path, `list the transitions of ${key}`);
  const wanted = name.toLowerCase();
  const chosen = transitions.find((t) => t.name.toLowerCase() === wanted) ?? transitions.find((t) => t.to?.name?.toLowerCase() === wanted);
  if (chosen !== undefined) {
    await jira.call('POST', path, `move ${key} through "${chosen.name}"`, { transition: { id: chosen.id } });
    return;
  }
  const issue = await jira.call<{ fields?: { status?: { name?: string } } }>(
    'GET',
    `/issue/${encodeURIComponent(key)}?fields=status`,
    `read the status of ${key}`,
  );
  const current = issue?.fields?.status?.name;
  if (current?.toLowerCase() === wanted) return;
  const available = transitions.map((t) => `"${t.name}"`).join(', ') || 'none';
  throw new ProviderError(
    `Jira has no transition "${name}" for ${key} in status "${current ?? 'unknown'}" (available: ${available}); check sync transitions in the provider's configuration`,
    false,
  );
}

function ref(jira: JiraClient, issue: { id: string; key: string }): TicketRef {
  return { key: issue.key, externalId: issue.id, url: `${jira.settings.baseUrl}/browse/${issue.key}` };
}

/** The idempotency key goes into a label and a JQL string: Jira label characters only. */
function safeLabel(key: string): string {
  if (!/^[A-Za-z0-9_.:-]{1,255}$/.test(key)) throw new ProviderError(`idempotency key "${key}" cannot be a Jira label`, false);
  return key;
}
