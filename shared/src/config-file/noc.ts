import { z } from 'zod';
import { SiteKind } from '@oncall/contracts';
import { isValidTimeZone } from '../index.js';

/**
 * The NOC model in the configuration file (issue 16, docs/noc.md): the site registry and how
 * alerts are placed at a site, inhibit rules, customer tiers with their SLAs and the L0–L3
 * response tiers. Grouping and flapping live on a service's routing (schemas.ts). Like the rest
 * of the file: strict (an unknown key is an error), durations in seconds once parsed.
 */

/** A Prometheus label name. */
export const LabelName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'use a label name like site or customer_tier');

/** Site ids are label values (`site="ams1"`): letters, digits, dots, dashes and underscores. */
export const SiteId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'use 1-63 letters, digits, dots, dashes and underscores (the value of the site label)');

/** Customer and response tier ids: `enterprise`, `L2`. */
export const TierId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, 'use 1-63 letters, digits, dashes and underscores');

const Name = z.string().min(1).max(200);
const Device = z.string().min(1).max(200);

const TimeZone = z
  .string()
  .refine(isValidTimeZone, (zone) => ({ message: `unknown time zone "${zone}" (use an IANA name like Europe/Amsterdam or UTC)` }));

function noRepeats(values: readonly string[], what: string, ctx: z.RefinementCtx, path: Array<string | number> = []): void {
  const first = new Map<string, number>();
  values.forEach((v, i) => {
    const at = first.get(v);
    if (at !== undefined) ctx.addIssue({ code: 'custom', path: [...path, i], message: `${what} "${v}" is listed twice (also [${at}])` });
    else first.set(v, i);
  });
}

// ─── Sites ────────────────────────────────────────────────────────────────────────────────────

/** One region or site of `sites:`; parents, tiers and cycles are checked across the list. */
export const Site = z
  .object({
    id: SiteId,
    name: Name,
    kind: SiteKind,
    parent: SiteId.nullish().transform((v) => v ?? null),
    /** IANA zone; absent = the parent's. */
    timeZone: TimeZone.nullish().transform((v) => v ?? null),
    /** Customer tier of everything at this site and below it (an alert's own tier label wins). */
    tier: TierId.nullish().transform((v) => v ?? null),
    devices: z.array(Device).default([]),
  })
  .strict()
  .superRefine((s, ctx) => noRepeats(s.devices, 'device', ctx, ['devices']));

/** How an alert is placed at a site: the first of `labels` whose value is a site id, else the site listing its device. */
export const Placement = z
  .object({
    labels: z.array(LabelName).min(1, 'list at least one label').default(['site', 'pop']),
    deviceLabel: LabelName.default('device'),
  })
  .strict()
  .superRefine((p, ctx) => noRepeats(p.labels, 'label', ctx, ['labels']));

// ─── Inhibition ───────────────────────────────────────────────────────────────────────────────

/**
 * `condition` is the file's CEL condition schema (schemas.ts, compiled with line and column);
 * passed in so this module does not import the section list that imports it.
 */
export const inhibitRule = (
  condition: z.ZodType<string, z.ZodTypeDef, string>,
  id: z.ZodType<string>,
  wait: z.ZodType<number, z.ZodTypeDef, string>,
) =>
  z
    .object({
      /** The rule's id (its subject is `config.inhibit.<name>`). */
      name: id,
      /** CEL: the alerts that inhibit. */
      source: condition,
      /** CEL: the alerts they inhibit. */
      target: condition.default('true'),
      /** Labels a source and a target must share (same value; missing = the empty string). */
      equal: z.array(LabelName).default([]),
      /** labels: the equal labels decide; site: the target is at the source's site or below it (and shares the equal labels). */
      scope: z.enum(['labels', 'site']).default('labels'),
      /** Targets wait this long before paging, so a source arriving a moment later still inhibits them. */
      wait: wait.default('0s'),
    })
    .strict()
    .superRefine((r, ctx) => {
      noRepeats(r.equal, 'label', ctx, ['equal']);
      if (r.scope === 'labels' && r.equal.length === 0)
        ctx.addIssue({
          code: 'custom',
          path: ['equal'],
          message:
            'with scope labels, list the labels a source and a target share (or use scope site): otherwise one source inhibits every target anywhere',
        });
    });

// ─── Tiers ────────────────────────────────────────────────────────────────────────────────────

type Seconds = z.ZodType<number, z.ZodTypeDef, string>;

export const customerTiers = (sla: Seconds, before: Seconds) =>
  z
    .object({
      /** The label naming an alert's customer tier. */
      label: LabelName.default('customer_tier'),
      tiers: z
        .record(
          TierId,
          z
            .object({
              name: Name.optional(),
              /** Acknowledge within this time. */
              sla,
              /** Escalate this long before the SLA ends if nobody has acknowledged. */
              escalateBefore: before.default('0s'),
            })
            .strict()
            .superRefine((t, ctx) => {
              if (t.escalateBefore >= t.sla)
                ctx.addIssue({
                  code: 'custom',
                  path: ['escalateBefore'],
                  message: `must be shorter than the SLA (${t.escalateBefore}s is not under ${t.sla}s)`,
                });
            }),
        )
        .refine((tiers) => Object.keys(tiers).length > 0, 'list at least one tier'),
    })
    .strict()
    .transform((c) => ({
      label: c.label,
      tiers: Object.entries(c.tiers).map(([tierId, t]) => ({
        tierId,
        name: t.name ?? tierId,
        responseSeconds: t.sla,
        escalateBeforeSeconds: t.escalateBefore,
      })),
    }));

export const responseTiers = <T extends z.ZodTypeAny>(target: T) =>
  z
    .record(
      TierId,
      z
        .object({
          name: Name.optional(),
          targets: z.array(target).min(1, 'list at least one target'),
        })
        .strict(),
    )
    .refine((tiers) => Object.keys(tiers).length > 0, 'list at least one tier')
    .transform((tiers) => Object.entries(tiers).map(([tierId, t]) => ({ tierId, name: t.name ?? tierId, targets: t.targets })));
