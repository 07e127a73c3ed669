import { SecretRef, TicketState } from '@oncall/contracts';
import { z } from 'zod';

/** The generic webhook's `settings` (docs/tickets.md#generic-webhook). */
export const WebhookSettings = z
  .object({
    /** Where tickets are created. */
    url: z.string().url(),
    createMethod: z.enum(['POST', 'PUT']).default('POST'),
    /** Where a ticket is changed: a liquid template over `ticket` (key, externalId, url); default `<url>/<key>`. */
    updateUrl: z.string().min(1).optional(),
    updateMethod: z.enum(['PUT', 'POST', 'PATCH']).default('PUT'),
    /** Liquid over `alert`, `fields`, `idempotencyKey`; must render JSON. */
    bodyTemplate: z.string().min(1).optional(),
    /** Liquid over `ticket`, `change` (kind, transition, comment); must render JSON. */
    updateBodyTemplate: z.string().min(1).optional(),
    headers: z.record(z.string(), z.string()).default({}),
    /** `GET <lookupUrl>?idempotency_key=…` finds a ticket an earlier attempt created (200 with the ticket, 404 none). */
    lookupUrl: z.string().url().optional(),
    /** Signs every request (Standard Webhooks, as our outgoing webhooks). */
    signingSecret: SecretRef.optional(),
    /** Inbound `status` → our ticket state; a status named like a state maps to it without an entry. */
    statusMap: z.record(z.string(), TicketState).default({}),
  })
  .strict();
export type WebhookSettings = z.infer<typeof WebhookSettings>;

export const DEFAULT_BODY = '{"idempotencyKey": {{ idempotencyKey | json }}, "alert": {{ alert | json }}, "fields": {{ fields | json }}}';
export const DEFAULT_UPDATE_BODY =
  '{"ticket": {{ ticket.key | json }}, "kind": {{ change.kind | json }}, "transition": {{ change.transition | json }}, "comment": {{ change.comment | json }}}';

/** What the receiver answers to a create (and a lookup): the ticket. */
export const TicketAnswer = z.object({ key: z.string().min(1), id: z.string().optional(), url: z.string().nullable().optional() });

/** What the receiver posts to the bridge when a ticket changes. */
export const InboundEvent = z.object({
  /** The receiver's id of this change (dedup of redelivered calls). */
  id: z.string().min(1),
  ticket: z.string().min(1),
  status: z.string().min(1),
  actor: z.string().nullable().optional(),
  comment: z.string().nullable().optional(),
  /** The bridge's key (`oncall-<alertId>`) as it was sent, when the receiver echoes it. */
  idempotencyKey: z.string().optional(),
});
