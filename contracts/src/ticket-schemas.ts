import { z } from 'zod';
import { isoTime, Surface } from './common-schemas.js';

/**
 * Tickets (issue 18): the ticket providers in the configuration (`config.ticket-provider.<id>`)
 * and the ticket bridge's events on `tickets.<p>.<alertId>` — one subject per alert, so an alert's
 * tickets are one history and the bridge can append with an expected subject sequence.
 * docs/tickets.md describes the providers, the field mapping and the sync rules.
 */

const ref = { alertId: z.string().uuid(), serviceId: z.string() };

export const TicketProviderType = z.enum(['jira', 'servicenow', 'salesforce', 'opsgenie', 'webhook']);
export type TicketProviderType = z.infer<typeof TicketProviderType>;

/** A ticket's state in our words; each provider maps its own statuses onto these. */
export const TicketState = z.enum(['open', 'in_progress', 'resolved', 'closed']);
export type TicketState = z.infer<typeof TicketState>;

/**
 * Where a secret comes from: an environment variable or a file (a mounted secret). The log and the
 * configuration file hold only the reference, never the secret.
 */
export const SecretRef = z.union([
  z.object({ env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/) }).strict(),
  z.object({ file: z.string().min(1) }).strict(),
]);
export type SecretRef = z.infer<typeof SecretRef>;

/** How the bridge signs in to a provider's API. */
export const TicketAuth = z.discriminatedUnion('kind', [
  /** Jira API token / ServiceNow user: HTTP Basic. */
  z.object({ kind: z.literal('basic'), username: z.string().min(1), password: SecretRef }).strict(),
  /** A long-lived bearer token (Jira PAT / OAuth access token, Opsgenie `GenieKey` uses `genie-key`). */
  z.object({ kind: z.literal('bearer'), token: SecretRef }).strict(),
  z.object({ kind: z.literal('genie-key'), key: SecretRef }).strict(),
  /** OAuth 2.0 client credentials (ServiceNow, Salesforce). */
  z
    .object({
      kind: z.literal('oauth-client-credentials'),
      tokenUrl: z.string().url(),
      clientId: z.string().min(1),
      clientSecret: SecretRef,
      scope: z.string().optional(),
    })
    .strict(),
  /** OAuth 2.0 JWT bearer flow (Salesforce): a JWT signed with the private key, exchanged at tokenUrl. */
  z
    .object({
      kind: z.literal('oauth-jwt-bearer'),
      tokenUrl: z.string().url(),
      clientId: z.string().min(1),
      username: z.string().min(1),
      audience: z.string().min(1),
      privateKey: SecretRef,
    })
    .strict(),
  /** No outbound auth (the generic webhook signs its body instead). */
  z.object({ kind: z.literal('none') }).strict(),
]);
export type TicketAuth = z.infer<typeof TicketAuth>;

/** What the bridge does to the ticket when the alert changes, and what a ticket change does to the alert. */
export const TicketSync = z
  .object({
    /** On acknowledge: the transition (Jira transition name, ServiceNow state, Salesforce Status, …) or null; and whether to comment. */
    onAcknowledge: z.object({ transition: z.string().nullable(), comment: z.boolean() }).strict(),
    onResolve: z.object({ transition: z.string().nullable(), comment: z.boolean() }).strict(),
    /** On an alert that fires again after it was resolved: reopen transition or null (a new ticket is not opened). */
    onReopen: z.object({ transition: z.string().nullable(), comment: z.boolean() }).strict(),
    /** A ticket that reaches one of these states resolves its alert (the provider user is the actor); [] = never. */
    resolveAlertOn: z.array(TicketState),
    /** Provider comments are mirrored to the alert's timeline. */
    mirrorComments: z.boolean(),
    /** Fallback polling for providers that can poll (ServiceNow, Salesforce); null = inbound webhooks only. */
    pollSeconds: z.number().int().min(10).nullable(),
  })
  .strict();
export type TicketSync = z.infer<typeof TicketSync>;

/**
 * A ticket provider as configured. `settings` is the provider's own (validated by the provider:
 * Jira `{ baseUrl, apiVersion, project, issueType, statusMap }`, …: docs/tickets.md); `fields` maps
 * provider field names to CEL over `alert`, `labels`, `annotations`, `service`; `inboundSecret`
 * verifies the provider's calls to us.
 */
export const TicketProvider = z
  .object({
    providerId: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/),
    type: TicketProviderType,
    name: z.string(),
    settings: z.record(z.string(), z.unknown()),
    auth: TicketAuth,
    fields: z.record(z.string(), z.string()),
    sync: TicketSync,
    inboundSecret: SecretRef.nullable(),
  })
  .strict();
export type TicketProvider = z.infer<typeof TicketProvider>;

/**
 * Fields each provider type needs in `fields` (checked at `oncall apply`): without them the
 * provider's API refuses the ticket.
 */
export const REQUIRED_TICKET_FIELDS: Readonly<Record<TicketProviderType, readonly string[]>> = {
  jira: ['summary'],
  servicenow: ['short_description'],
  salesforce: ['Subject'],
  opsgenie: ['message'],
  webhook: [],
};

export const TicketOperation = z.enum(['create', 'update', 'inbound', 'poll']);

export const ticketSchemas = {
  TicketProviderConfigured: { 1: TicketProvider },
  TicketProviderRemoved: { 1: z.object({ providerId: z.string() }) },
  /**
   * Someone asked for a ticket: a routing rule's `ticket:` action (`requestedBy: rule`, the
   * AlertRouted event is the cause) or the API (`api`, the user). At most one ticket per alert and
   * provider follows, however often it is asked.
   */
  TicketRequested: {
    1: z.object({
      ...ref,
      providerId: z.string(),
      requestedBy: z.enum(['rule', 'api']),
      userId: z.string().nullable(),
      /** The caller's idempotency key (gRPC request id), or the AlertRouted event id. */
      requestId: z.string(),
    }),
  },
  /**
   * The provider holds the ticket. `externalId` is the provider's own id where it differs from the
   * key (ServiceNow sys_id, Salesforce Id); `found` = an earlier attempt had already created it and
   * the lookup found it (no second ticket). Both optional: absent in events before issue 18.
   */
  TicketCreated: {
    1: z.object({
      ...ref,
      providerId: z.string(),
      ticketKey: z.string(),
      url: z.string().nullable(),
      externalId: z.string().optional(),
      found: z.boolean().optional(),
    }),
  },
  /** The bridge changed the ticket because the alert changed (`cause` = the alert event's id). */
  TicketUpdated: {
    1: z.object({
      ...ref,
      providerId: z.string(),
      ticketKey: z.string(),
      change: z.enum(['acknowledged', 'resolved', 'reopened', 'comment']),
      /** The state the bridge moved the ticket to, null = a comment only. */
      state: TicketState.nullable(),
      cause: z.string(),
    }),
  },
  /**
   * A call to the provider failed. `permanent`: it will not be retried (bad credentials, a
   * rejected field, retries used up); else `retryAt` is when it is tried again (Retry-After honoured).
   */
  TicketSyncFailed: {
    1: z.object({
      ...ref,
      providerId: z.string(),
      ticketKey: z.string().nullable(),
      operation: TicketOperation,
      error: z.string(),
      httpStatus: z.number().int().nullable(),
      attempt: z.number().int().positive(),
      permanent: z.boolean(),
      retryAt: isoTime.nullable(),
    }),
  },
  /** An existing ticket linked to the alert by a person (LinkAlertToTicket). */
  TicketLinked: {
    1: z.object({
      ...ref,
      providerId: z.string(),
      ticketKey: z.string(),
      url: z.string().nullable(),
      userId: z.string().nullable(),
      via: Surface.optional(),
    }),
  },
  /**
   * The provider said the ticket changed (inbound webhook, Pub/Sub event or poll). `status` is the
   * provider's own word; `state` ours; `actor` the provider user; `echo` = a change the bridge
   * itself made, recognised when it came back (it acts on nothing). The optional fields are
   * absent in events before issue 18.
   */
  TicketStatusChanged: {
    1: z.object({
      ...ref,
      providerId: z.string(),
      ticketKey: z.string(),
      status: z.string(),
      state: TicketState.optional(),
      actor: z.string().nullable().optional(),
      echo: z.boolean().optional(),
      comment: z.string().nullable().optional(),
      /** The provider's id of this change (for dedup of redelivered webhooks). */
      changeId: z.string().optional(),
    }),
  },
} as const;
