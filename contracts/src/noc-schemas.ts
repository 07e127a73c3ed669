import { z } from 'zod';
import { EscalationTarget } from './config-schemas.js';

/**
 * The ISP/NOC model (issue 16, seed 004) as configuration events: the site registry, inhibition
 * rules, customer tiers with SLA response times and L0–L3 response tiers. Grouping and flapping
 * thresholds live on a service's routing (config-schemas: RoutingConfigured, RoutingRule).
 */

export const SiteKind = z.enum(['region', 'datacenter', 'pop', 'colo', 'edge', 'site']);
export type SiteKind = z.infer<typeof SiteKind>;

export const Site = z.object({
  siteId: z.string(),
  name: z.string(),
  kind: SiteKind,
  /** The site this one is part of (a POP of a region, a cage of a datacenter); null at the top. */
  parentId: z.string().nullable(),
  /** IANA zone; null = the parent's. */
  timeZone: z.string().nullable(),
  /** Customer tier of the site (an alert's own tier label wins). */
  tier: z.string().nullable(),
  /** Devices placed here: an alert whose device label is one of them is at this site. */
  devices: z.array(z.string()),
});
export type Site = z.infer<typeof Site>;

/** Alerts are placed at a site by label: the first of `placementLabels` whose value is a site id, else the device label. */
export const SiteRegistry = z.object({
  sites: z.array(Site),
  placementLabels: z.array(z.string()).min(1),
  deviceLabel: z.string(),
});
export type SiteRegistry = z.infer<typeof SiteRegistry>;

/**
 * While an alert matching `source` fires, alerts matching `target` that share the `equal` labels
 * (scope `labels`), or that are placed at the source's site or below it (scope `site`), are
 * inhibited: recorded, not paged. Targets wait `waitSeconds` before paging, so a source that
 * arrives a moment after them still inhibits them.
 */
export const InhibitRule = z.object({
  ruleId: z.string(),
  source: z.string(),
  target: z.string(),
  equal: z.array(z.string()),
  scope: z.enum(['labels', 'site']),
  waitSeconds: z.number().int().nonnegative(),
});
export type InhibitRule = z.infer<typeof InhibitRule>;

export const CustomerTier = z.object({
  tierId: z.string(),
  name: z.string(),
  /** The SLA: an alert must be acknowledged within this time. */
  responseSeconds: z.number().int().positive(),
  /** Escalate to the next step this long before the SLA ends if nobody has acknowledged. */
  escalateBeforeSeconds: z.number().int().nonnegative(),
});
export type CustomerTier = z.infer<typeof CustomerTier>;

export const ResponseTier = z.object({
  /** L0, L1, L2, L3 — named in escalation steps as `{ type: tier, tierId }`. */
  tierId: z.string(),
  name: z.string(),
  targets: z.array(EscalationTarget).min(1),
});
export type ResponseTier = z.infer<typeof ResponseTier>;

export const nocSchemas = {
  SiteRegistryConfigured: { 1: SiteRegistry },
  InhibitRuleConfigured: { 1: InhibitRule },
  InhibitRuleRemoved: { 1: z.object({ ruleId: z.string() }) },
  CustomerTiersConfigured: { 1: z.object({ label: z.string(), tiers: z.array(CustomerTier) }) },
  ResponseTiersConfigured: { 1: z.object({ tiers: z.array(ResponseTier) }) },
} as const;
