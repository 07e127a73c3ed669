import { ProviderError, type ProviderContext, type TicketProvider, type TicketRef } from '../types.js';
import { session } from './auth.js';
import { subscribeCaseChanges } from './pubsub.js';
import { rest } from './rest.js';
import { salesforceSettings, validateSalesforceConfig } from './settings.js';
import { polledChanges, pollQuery, soqlString, type PolledCase } from './soql.js';

/** Salesforce record ids: 15 or 18 characters; Case ids start with 500. */
const CASE_ID = /^500[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$/;
/** CaseComment.CommentBody holds at most 4,000 characters. */
const COMMENT_MAX = 4000;

const caseRef = (instanceUrl: string, id: string, caseNumber: string): TicketRef => ({
  key: caseNumber,
  externalId: id,
  url: `${instanceUrl}/lightning/r/Case/${id}/view`,
});

const instanceUrl = async (ctx: ProviderContext) => (await session(ctx)).instanceUrl;

async function caseById(ctx: ProviderContext, id: string): Promise<TicketRef> {
  const answer = await rest(ctx, 'read Case', 'GET', `/sobjects/Case/${id}?fields=Id,CaseNumber`);
  const record = answer?.json as { Id: string; CaseNumber: string };
  return caseRef(await instanceUrl(ctx), record.Id, record.CaseNumber);
}

/** The Case id of a ticket; a ticket linked by its CaseNumber alone is looked up once. */
async function caseId(ctx: ProviderContext, ticket: TicketRef): Promise<string> {
  if (CASE_ID.test(ticket.externalId)) return ticket.externalId;
  const q = `SELECT Id FROM Case WHERE CaseNumber = ${soqlString(ticket.key)}`;
  const answer = await rest(ctx, 'find Case by number', 'GET', `/query?q=${encodeURIComponent(q)}`);
  const id = (answer?.json as { records: { Id: string }[] }).records[0]?.Id;
  if (id === undefined) throw new ProviderError(`Salesforce has no Case ${ticket.key}`, false, 404);
  return id;
}

const byExternalId = (ctx: ProviderContext, idempotencyKey: string) =>
  `/sobjects/Case/${salesforceSettings(ctx.config).externalIdField}/${encodeURIComponent(idempotencyKey)}`;

/**
 * Salesforce Cases over the REST API with OAuth 2.0 (client credentials or JWT bearer). The
 * idempotency key is the Case's External ID field: create is an upsert on it, so a repeated
 * create cannot make a second Case. Inbound: the Pub/Sub API (Change Data Capture on Case), and
 * polling by SystemModstamp as the fallback.
 */
export const salesforceProvider: TicketProvider = {
  type: 'salesforce',
  capabilities: ['create', 'update', 'sync', 'poll'],
  requiredFields: ['Subject'],
  validateConfig: validateSalesforceConfig,

  async find(ctx, idempotencyKey) {
    const answer = await rest(ctx, 'find Case', 'GET', `${byExternalId(ctx, idempotencyKey)}?fields=Id,CaseNumber`, {
      notFoundIsNull: true,
    });
    if (answer === null) return null;
    const record = answer.json as { Id: string; CaseNumber: string };
    return caseRef(await instanceUrl(ctx), record.Id, record.CaseNumber);
  },

  async create(ctx, { fields, idempotencyKey }) {
    const answer = await rest(ctx, 'create Case', 'PATCH', byExternalId(ctx, idempotencyKey), { body: fields });
    const id = (answer?.json as { id?: unknown } | null)?.id;
    if (typeof id !== 'string') throw new ProviderError('Salesforce upsert of the Case answered no id', true, answer?.status ?? null);
    return caseById(ctx, id);
  },

  async update(ctx, ticket, change) {
    const id = await caseId(ctx, ticket);
    if (change.transition !== null) {
      await rest(ctx, `set Case status ${change.transition}`, 'PATCH', `/sobjects/Case/${id}`, { body: { Status: change.transition } });
    }
    if (change.comment !== null) {
      await rest(ctx, 'add CaseComment', 'POST', '/sobjects/CaseComment', {
        body: { ParentId: id, CommentBody: change.comment.slice(0, COMMENT_MAX) },
      });
    }
  },

  async poll(ctx, since) {
    if (since === null) return { changes: [], cursor: ctx.now().toISOString() };
    const settings = salesforceSettings(ctx.config);
    const answer = await rest(ctx, 'poll Cases', 'GET', `/query?q=${encodeURIComponent(pollQuery(since, settings.externalIdField))}`);
    return polledChanges((answer?.json as { records: PolledCase[] }).records, since, settings);
  },

  subscribe: subscribeCaseChanges,

  /** Signs in and checks that Case has the External ID field and every mapped field. */
  async check(ctx) {
    const settings = salesforceSettings(ctx.config);
    const answer = await rest(ctx, 'describe Case', 'GET', '/sobjects/Case/describe');
    const fields = new Map(
      (answer?.json as { fields: { name: string; externalId?: boolean; createable?: boolean }[] }).fields.map((f) => [f.name, f]),
    );
    const external = fields.get(settings.externalIdField);
    if (!external?.externalId) {
      throw new ProviderError(
        `Case has no External ID field ${settings.externalIdField}: create it as a unique External ID text field`,
        false,
      );
    }
    const missing = Object.keys(ctx.config.fields).filter((name) => !fields.get(name)?.createable);
    if (missing.length > 0) throw new ProviderError(`Case fields missing or not writable for this user: ${missing.join(', ')}`, false);
  },
};
