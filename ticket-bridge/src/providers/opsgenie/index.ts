import { z } from 'zod';
import { InboundRejected, ProviderError, type ProviderContext, type TicketProvider } from '../types.js';
import { opsgenieCall, requestIdOf, requestOutcome } from './api.js';
import { parseOpsgenieCall, verifyOpsgenieCall } from './inbound.js';
import { alertActions, alertBody, alertRef, alertState, isTracked, OpsgenieAlert, webhookChange } from './mapping.js';
import { opsgenieSettings, validateOpsgenieConfig, type OpsgenieSettings } from './settings.js';

const AlertAnswer = z.object({ data: OpsgenieAlert });

async function getAlert(
  ctx: ProviderContext,
  settings: OpsgenieSettings,
  identifier: string,
  identifierType: 'id' | 'alias',
): Promise<OpsgenieAlert | null> {
  const answer = await opsgenieCall(ctx, settings, 'GET', `/v2/alerts/${encodeURIComponent(identifier)}`, {
    query: { identifierType },
    notFoundOk: true,
  });
  if (answer.status === 404) return null;
  const parsed = AlertAnswer.safeParse(answer.body);
  if (!parsed.success)
    throw new ProviderError(`Opsgenie answered for alert ${identifier} with something that is not an alert`, false, answer.status);
  return parsed.data.data;
}

/** Opsgenie alerts over the Alert API v2 (docs/tickets.md, "Opsgenie"). */
export const opsgenieProvider: TicketProvider = {
  type: 'opsgenie',
  capabilities: ['create', 'update', 'sync', 'webhook'],
  requiredFields: ['message'],
  validateConfig: validateOpsgenieConfig,

  async find(ctx, idempotencyKey) {
    const settings = opsgenieSettings(ctx.config);
    const alert = await getAlert(ctx, settings, idempotencyKey, 'alias');
    return alert === null ? null : alertRef(settings, alert);
  },

  async create(ctx, { alert, fields, idempotencyKey }) {
    const settings = opsgenieSettings(ctx.config);
    const accepted = await opsgenieCall(ctx, settings, 'POST', '/v2/alerts', { body: alertBody(settings, alert, fields, idempotencyKey) });
    const requestId = requestIdOf(accepted);
    const outcome = await requestOutcome(ctx, settings, requestId, 'create the alert');
    // Unprocessed: retryable, and the alias makes the retry find the alert instead of making a second one.
    if (outcome === null) throw new ProviderError(`Opsgenie has not processed request ${requestId} yet`, true, null, 1_000);
    if (outcome.alertId === null) throw new ProviderError(`Opsgenie processed request ${requestId} without an alert id`, false);
    const created = await getAlert(ctx, settings, outcome.alertId, 'id');
    if (created === null) throw new ProviderError(`Opsgenie reported alert ${outcome.alertId} created but does not find it`, true);
    return alertRef(settings, created);
  },

  async update(ctx, ticket, change) {
    const settings = opsgenieSettings(ctx.config);
    // The id, not the alias: after a close, a new alert may carry the same alias.
    // Opsgenie says only when processing whether the action worked: wait for it (an action still
    // unprocessed after the waits is taken as done; retrying it could add a second note).
    for (const { action, body } of alertActions(settings, change)) {
      const accepted = await opsgenieCall(ctx, settings, 'POST', `/v2/alerts/${encodeURIComponent(ticket.externalId)}/${action}`, {
        query: { identifierType: 'id' },
        body,
      });
      await requestOutcome(ctx, settings, requestIdOf(accepted), `${action === 'notes' ? 'add the note to' : action} alert ${ticket.key}`);
    }
  },

  async receive(ctx, request) {
    const secret = ctx.config.inboundSecret;
    if (secret === null) throw new InboundRejected('this Opsgenie provider has no inboundSecret: it accepts no calls', 401);
    const settings = opsgenieSettings(ctx.config);
    verifyOpsgenieCall(ctx.secret(secret), settings.inboundHeader, request);
    const payload = parseOpsgenieCall(request.body);
    if (!isTracked(payload)) return [];
    let current = null;
    if (payload.action === 'AddNote') {
      const alert = await getAlert(ctx, settings, payload.alert.alertId, 'id');
      if (alert === null) throw new InboundRejected(`Opsgenie has no alert ${payload.alert.alertId}`, 404);
      current = alertState(alert);
    }
    const change = webhookChange(payload, current);
    return change === null ? [] : [change];
  },

  async check(ctx) {
    await opsgenieCall(ctx, opsgenieSettings(ctx.config), 'GET', '/v2/alerts', { query: { limit: '1' } });
  },
};
