import { z } from 'zod';
import { InboundRejected, ProviderError, type InboundChange, type ProviderContext, type TicketProvider } from '../types.js';
import { tableCall } from './api.js';
import { parseServiceNowCall, verifyServiceNowCall } from './inbound.js';
import {
  formatCursor,
  inboundChange,
  IncidentRecord,
  incidentBody,
  incidentRef,
  parseCursor,
  pollQuery,
  pollStep,
  RECORD_FIELDS,
  updateBody,
} from './mapping.js';
import { serviceNowSettings, validateServiceNowConfig } from './settings.js';

const POLL_PAGE = 100;
const Created = z.object({ sys_id: z.string(), number: z.string() });

function records(result: unknown, what: string): IncidentRecord[] {
  const parsed = z.array(IncidentRecord).safeParse(result);
  if (!parsed.success) throw new ProviderError(`ServiceNow answered ${what} with records that are not incidents`, false);
  return parsed.data;
}

function changesOf(ctx: ProviderContext, list: IncidentRecord[]): InboundChange[] {
  const settings = serviceNowSettings(ctx.config);
  return list.map((r) => inboundChange(settings, r)).filter((c) => c !== null);
}

/** ServiceNow incidents over the Table API (docs/tickets.md, "ServiceNow"). */
export const serviceNowProvider: TicketProvider = {
  type: 'servicenow',
  capabilities: ['create', 'update', 'sync', 'webhook', 'poll'],
  requiredFields: ['short_description'],
  validateConfig: validateServiceNowConfig,

  async find(ctx, idempotencyKey) {
    const settings = serviceNowSettings(ctx.config);
    // `^` would end the encoded query term and start another.
    if (!/^[A-Za-z0-9_.:-]+$/.test(idempotencyKey))
      throw new ProviderError(`idempotency key "${idempotencyKey}" cannot go into a ServiceNow query`, false);
    const found = records(
      await tableCall(ctx, settings, 'GET', '', {
        sysparm_query: `correlation_id=${idempotencyKey}`,
        sysparm_limit: '1',
        sysparm_fields: RECORD_FIELDS,
      }),
      'a lookup',
    );
    return found[0] ? incidentRef(settings, found[0]) : null;
  },

  async create(ctx, { fields, idempotencyKey }) {
    const settings = serviceNowSettings(ctx.config);
    const result = await tableCall(
      ctx,
      settings,
      'POST',
      '',
      { sysparm_fields: 'sys_id,number' },
      incidentBody(settings, fields, idempotencyKey),
    );
    const created = Created.safeParse(result);
    if (!created.success) throw new ProviderError('ServiceNow created the incident but answered without sys_id and number', false);
    return incidentRef(settings, created.data);
  },

  async update(ctx, ticket, change) {
    const settings = serviceNowSettings(ctx.config);
    const body = updateBody(settings, change);
    if (Object.keys(body).length === 0) return;
    await tableCall(ctx, settings, 'PATCH', `/${encodeURIComponent(ticket.externalId)}`, { sysparm_fields: 'sys_id' }, body);
  },

  async receive(ctx, request) {
    const secret = ctx.config.inboundSecret;
    if (secret === null) throw new InboundRejected('this ServiceNow provider has no inboundSecret: it accepts no calls', 401);
    verifyServiceNowCall(ctx.secret(secret), request, ctx.now());
    const change = inboundChange(serviceNowSettings(ctx.config), parseServiceNowCall(request.body));
    if (change === null) throw new InboundRejected('the incident state is not in the provider stateMap', 400);
    return [change];
  },

  async poll(ctx, since) {
    const settings = serviceNowSettings(ctx.config);
    if (since === null) {
      // First poll: start at the newest of our incidents, not at the beginning of history.
      const newest = records(
        await tableCall(ctx, settings, 'GET', '', {
          sysparm_query: 'correlation_idSTARTSWITHoncall-^ORDERBYDESCsys_updated_on',
          sysparm_limit: '1',
          sysparm_fields: RECORD_FIELDS,
        }),
        'a poll',
      );
      return {
        changes: [],
        cursor: newest[0] ? formatCursor(pollStep({ time: newest[0].sys_updated_on, seen: [] }, newest).cursor) : null,
      };
    }
    const cursor = parseCursor(since);
    const page = records(
      await tableCall(ctx, settings, 'GET', '', {
        sysparm_query: pollQuery(cursor),
        sysparm_limit: String(POLL_PAGE),
        sysparm_fields: RECORD_FIELDS,
      }),
      'a poll',
    );
    const step = pollStep(cursor, page);
    return { changes: changesOf(ctx, step.fresh), cursor: formatCursor(step.cursor) };
  },

  async check(ctx) {
    await tableCall(ctx, serviceNowSettings(ctx.config), 'GET', '', { sysparm_limit: '1', sysparm_fields: 'sys_id' });
  },
};
