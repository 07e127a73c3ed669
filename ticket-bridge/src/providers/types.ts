import type { TicketProvider as TicketProviderConfig, TicketProviderType, TicketState } from '@oncall/contracts';

/**
 * The one small interface every ticket provider implements (issue 18). Each provider lives in its
 * own folder (`providers/<type>/`) with a local stand-in server speaking the provider's real REST
 * protocol (`providers/<type>/stand-in.ts`) for tests and benchmarks. The bridge's engine owns
 * idempotency, retries, back-off and the log; a provider only speaks its protocol.
 */

export type Capability = 'create' | 'update' | 'sync' | 'webhook' | 'poll';

/** The alert as the field mapping and the description see it (CEL variables `alert`, `labels`, `annotations`, `service`). */
export interface TicketAlert {
  alertId: string;
  serviceId: string;
  serviceName: string;
  fingerprint: string;
  summary: string;
  details: string;
  severity: string;
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  links: { href: string; text: string }[];
  startsAt: string | null;
  /** The alert's page in the console / the link people follow. */
  url: string | null;
}

/** A ticket at the provider. `key` is what people see (OPS-12, INC0010001, 00001026); `externalId` the provider's internal id. */
export interface TicketRef {
  key: string;
  externalId: string;
  url: string | null;
}

/** What the bridge asks the provider to do to an existing ticket. */
export interface TicketChange {
  kind: 'acknowledged' | 'resolved' | 'reopened' | 'comment';
  /** The configured transition / status name, or null for a comment only. */
  transition: string | null;
  /** Comment text (already rendered), or null for none. */
  comment: string | null;
}

/** One change the provider reported (webhook, Pub/Sub event, poll). */
export interface InboundChange {
  /** The ticket's key or external id, whichever the provider sent; the bridge resolves it. */
  ticketKey: string;
  /** The alert id if the provider echoes our correlation (labels, correlation_id, AlertId__c). */
  alertId: string | null;
  status: string;
  state: TicketState;
  actor: string | null;
  comment: string | null;
  /** The provider's id of this change, for dedup of redelivered calls. */
  changeId: string;
}

/** An inbound HTTP request as received (raw body: signatures are over bytes). */
export interface InboundRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  query: URLSearchParams;
  body: Buffer;
}

/**
 * A failed call. `retryable`: 429, 5xx, timeouts, connection errors; not bad credentials or a
 * rejected field. `retryAfterMs` from the provider's Retry-After when it sent one.
 */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly httpStatus: number | null = null,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** An inbound call that is refused (bad signature, unknown ticket): answered 401/400, nothing changes. */
export class InboundRejected extends Error {
  constructor(
    message: string,
    readonly httpStatus: 400 | 401 | 403 | 404,
  ) {
    super(message);
    this.name = 'InboundRejected';
  }
}

/** What a provider gets from the bridge: its configuration, its secrets resolved, an HTTP client. */
export interface ProviderContext {
  config: TicketProviderConfig;
  /** Resolves a SecretRef of the configuration (env or file); throws a clear error if missing. */
  secret: (ref: import('@oncall/contracts').SecretRef) => string;
  /** fetch with the bridge's timeout and keep-alive agent. */
  fetch: typeof fetch;
  now: () => Date;
}

/** What a live inbound stream (Salesforce Pub/Sub) needs from the bridge. */
export interface SubscribeOptions {
  /** Where to resume: the replay id last handed to `onChanges` (persisted by the bridge), or null for new changes only. */
  replayId: Buffer | null;
  /** One batch at a time; `replayId` is the position after it, to persist once handled. A throw offers the same batch again after a back-off. */
  onChanges(changes: InboundChange[], replayId: Buffer): Promise<void>;
  log?: import('@oncall/shared').Logger;
}

export interface TicketProvider {
  readonly type: TicketProviderType;
  readonly capabilities: readonly Capability[];
  /** Field names the mapping must set (e.g. Jira `summary`); checked by `oncall apply`. */
  readonly requiredFields: readonly string[];
  /** Problems with `settings`/`auth` in plain words, each with its path under the provider; [] = fine. Pure. */
  validateConfig(config: TicketProviderConfig): { path: string; message: string }[];
  /**
   * Finds the ticket an earlier attempt created for this idempotency key (the bridge's key:
   * `oncall-<alertId>`, stored where the provider can search it: a Jira label, ServiceNow
   * correlation_id, Salesforce AlertFingerprint__c / external id, Opsgenie alias), or null.
   */
  find(ctx: ProviderContext, idempotencyKey: string): Promise<TicketRef | null>;
  /** Creates the ticket with the mapped fields, carrying the idempotency key. */
  create(ctx: ProviderContext, input: { alert: TicketAlert; fields: Record<string, unknown>; idempotencyKey: string }): Promise<TicketRef>;
  update(ctx: ProviderContext, ticket: TicketRef, change: TicketChange): Promise<void>;
  /** Verifies and parses an inbound call (throws InboundRejected); absent without 'webhook'. */
  receive?(ctx: ProviderContext, request: InboundRequest): Promise<InboundChange[]>;
  /** Changes since `since` (provider time) and the cursor to pass next; absent without 'poll'. */
  poll?(ctx: ProviderContext, since: string | null): Promise<{ changes: InboundChange[]; cursor: string | null }>;
  /** A push stream of changes (Salesforce Pub/Sub API), resumable by replay id; absent for other providers, a no-op when the configuration names no stream. */
  subscribe?(ctx: ProviderContext, opts: SubscribeOptions): { stop(): Promise<void> };
  /** A cheap authenticated call for TestProvider / ListProviders health. */
  check(ctx: ProviderContext): Promise<void>;
}
