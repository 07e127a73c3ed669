import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { maybeRow, rows } from './db.js';
import { TemplateChannels } from '@oncall/contracts';

const TemplateVersionRow = z.object({
  template_id: z.string(),
  version: z.number(),
  name: z.string(),
  description: z.string(),
  channels: TemplateChannels,
  required_variables: z.array(z.string()),
  optional_variables: z.array(z.string()),
  created_by: z.string(),
  published_at: z.number(),
  /** When the template's first version was published. */
  first_published_at: z.number(),
  latest_version: z.number(),
});
export type TemplateVersionRow = z.infer<typeof TemplateVersionRow>;

const SELECT = sql.fragment`
  SELECT v.template_id, v.version, v.name, v.description, v.channels, v.required_variables, v.optional_variables, v.created_by,
    v.published_at, (SELECT min(f.published_at) FROM template_versions f WHERE f.template_id = v.template_id) AS first_published_at,
    t.latest_version
  FROM template_versions v JOIN templates t ON t.id = v.template_id`;

/** One published version; `version` 0 = the latest. */
export async function getTemplateVersion(pool: DatabasePool, templateId: string, version: number): Promise<TemplateVersionRow | null> {
  const which = version === 0 ? sql.fragment`v.version = t.latest_version` : sql.fragment`v.version = ${version}`;
  return maybeRow(pool, sql.type(TemplateVersionRow)`${SELECT} WHERE v.template_id = ${templateId} AND ${which}`);
}

/** The latest version of up to `limit` templates after `afterId`, by id. */
export async function listTemplates(pool: DatabasePool, afterId: string | null, limit: number): Promise<readonly TemplateVersionRow[]> {
  const after = afterId === null ? sql.fragment`TRUE` : sql.fragment`v.template_id > ${afterId}`;
  return rows(
    pool,
    sql.type(TemplateVersionRow)`${SELECT} WHERE v.version = t.latest_version AND ${after} ORDER BY v.template_id LIMIT ${limit}`,
  );
}

/** Every published version of a template, oldest first. */
export async function listTemplateVersions(pool: DatabasePool, templateId: string): Promise<readonly TemplateVersionRow[]> {
  return rows(pool, sql.type(TemplateVersionRow)`${SELECT} WHERE v.template_id = ${templateId} ORDER BY v.version`);
}
