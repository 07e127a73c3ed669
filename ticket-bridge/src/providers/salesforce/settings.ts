import { z } from 'zod';
import { TicketState, type TicketProvider as TicketProviderConfig } from '@oncall/contracts';

/** Case Status → our state when `statusMap` does not say otherwise (the standard Case statuses). */
export const DEFAULT_STATUS_MAP: Readonly<Record<string, TicketState>> = {
  New: 'open',
  Working: 'in_progress',
  Escalated: 'in_progress',
  Closed: 'closed',
};

const apiName = /^[A-Za-z][A-Za-z0-9_]*$/;

const PubSubSettings = z
  .object({
    /** host:port of the Pub/Sub API (gRPC). */
    endpoint: z
      .string()
      .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port, e.g. api.pubsub.salesforce.com:7443')
      .default('api.pubsub.salesforce.com:7443'),
    /** A Change Data Capture channel carrying Case changes. */
    topic: z
      .string()
      .regex(/^\/data\/[A-Za-z0-9_]+$/, 'must be a Change Data Capture channel such as /data/CaseChangeEvent')
      .default('/data/CaseChangeEvent'),
    /** false only for a local stand-in: Salesforce itself speaks TLS only. */
    tls: z.boolean().default(true),
  })
  .strict();

/** `settings` of a Salesforce provider (docs/tickets.md, "Salesforce"). */
export const SalesforceSettings = z
  .object({
    /** https://<domain>.my.salesforce.com; absent = the `instance_url` of the token response. */
    instanceUrl: z.string().url().optional(),
    apiVersion: z
      .string()
      .regex(/^\d{2,3}\.0$/, "must look like '62.0'")
      .default('62.0'),
    statusMap: z.record(z.string().min(1), TicketState).default({ ...DEFAULT_STATUS_MAP }),
    /** The Case field (External ID, unique) holding the idempotency key `oncall-<alertId>`. */
    externalIdField: z.string().regex(apiName, 'must be a field API name').default('AlertFingerprint__c'),
    pubSub: PubSubSettings.nullable().default(null),
  })
  .strict();
export type SalesforceSettings = z.infer<typeof SalesforceSettings>;

/** Parses settings already checked by `validateSalesforceConfig` (throws on bad ones). */
export function salesforceSettings(config: TicketProviderConfig): SalesforceSettings {
  return SalesforceSettings.parse(config.settings);
}

/** Problems with a Salesforce provider's settings, auth and fields, each with its path. Pure. */
export function validateSalesforceConfig(config: TicketProviderConfig): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const parsed = SalesforceSettings.safeParse(config.settings);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push({ path: ['settings', ...issue.path].join('.'), message: issue.message });
    }
  }
  if (config.auth.kind !== 'oauth-client-credentials' && config.auth.kind !== 'oauth-jwt-bearer') {
    problems.push({
      path: 'auth.kind',
      message: `Salesforce signs in with oauth-client-credentials or oauth-jwt-bearer, not ${config.auth.kind}`,
    });
  }
  const externalIdField = parsed.success ? parsed.data.externalIdField : 'AlertFingerprint__c';
  for (const field of Object.keys(config.fields)) {
    if (!apiName.test(field)) {
      problems.push({ path: `fields.${field}`, message: 'is not a Case field API name (letters, digits, _; custom fields end in __c)' });
    } else if (field === externalIdField) {
      problems.push({
        path: `fields.${field}`,
        message: `is set by the bridge to the idempotency key (oncall-<alertId>); remove it from fields`,
      });
    }
  }
  return problems;
}
