import type { DatabasePool } from 'slonik';
import type { notificationV1 } from '@oncall/contracts/grpc';
import * as render from '@oncall/shared/render';
import type { Logger } from '@oncall/shared';
import { InvalidArgument, NotFound } from './errors.js';
import { serverStream, unary } from './handlers.js';
import { getTemplateVersion, listTemplates, listTemplateVersions } from './read-model/templates.js';
import {
  channelOfType,
  toProtoTemplate,
  toProtoTemplateVersion,
  toRenderedPreview,
  toTemplateChannels,
  toValidationResult,
} from './template-mapping.js';
import { streamPage } from './list-page.js';
import { idPage } from './page-token.js';
import { bounded, required } from './validate.js';
import type { ConfigWriter } from './config-writes.js';
import { templateWrites } from './template-writes.js';

const MAX_VARIABLES = 100;

function variables(field: string, names: readonly string[]): string[] {
  if (names.length > MAX_VARIABLES) throw new InvalidArgument(field, `at most ${MAX_VARIABLES} variables`);
  return names.map((n, i) => required(`${field}[${i}]`, n));
}

function version(field: string, v: number): number {
  if (!Number.isInteger(v) || v < 0) throw new InvalidArgument(field, 'must be 0 (latest) or a published version');
  return v;
}

/**
 * TemplateService: templates from the read model (`templates`, `template_versions`), previews and
 * validation through the renderer the dispatcher sends with. Templates are written as
 * configuration (TemplateVersionPublished on CONFIG), by `oncall apply` or template-writes.
 */
export function templateService(pool: DatabasePool, log: Logger, writer: ConfigWriter | null): notificationV1.TemplateServiceServer {
  const load = async (templateId: string, v: number) => {
    const row = await getTemplateVersion(pool, templateId, v);
    if (!row) throw new NotFound(v === 0 ? `template ${templateId} not found` : `template ${templateId} has no version ${v}`);
    return row;
  };
  return {
    ...templateWrites(pool, log, writer),
    getTemplate: unary(log, 'GetTemplate', async (req: notificationV1.GetTemplateRequest) =>
      toProtoTemplate(await load(required('id', req.id), 0)),
    ),
    listTemplates: serverStream(log, 'ListTemplates', async (req: notificationV1.ListTemplatesRequest, write, ctx) => {
      const page = idPage('templates', req);
      return streamPage({
        pageSize: page.pageSize,
        batch: page.pageSize,
        after: page.afterId,
        fetch: (after, limit) => listTemplates(pool, after, limit),
        keyOf: (row) => row.template_id,
        token: page.token,
        write: (row) => write(toProtoTemplate(row)),
        signal: ctx.signal,
      });
    }),
    getTemplateVersion: unary(log, 'GetTemplateVersion', async (req: notificationV1.GetTemplateVersionRequest) =>
      toProtoTemplate(await load(required('template_id', req.templateId), version('version', req.version))),
    ),
    listTemplateVersions: serverStream(log, 'ListTemplateVersions', async (req: notificationV1.ListTemplateVersionsRequest, write) => {
      const templateId = required('template_id', req.templateId);
      const rows = await listTemplateVersions(pool, templateId);
      if (rows.length === 0) throw new NotFound(`template ${templateId} not found`);
      for (const row of rows) await write(toProtoTemplateVersion(row));
    }),
    renderPreview: unary(
      log,
      'RenderPreview',
      async (req: notificationV1.RenderPreviewRequest): Promise<notificationV1.RenderPreviewResponse> => {
        const channels = req.channels.map((c, i) => channelOfType(`channels[${i}]`, c));
        const draft = Object.keys(req.draftChannels).length > 0 ? toTemplateChannels('draft_channels', req.draftChannels) : null;
        const templateId = bounded('template_id', req.templateId, 256);
        const v = version('template_version', req.templateVersion);
        const stored = templateId === '' ? null : await load(templateId, v);
        const sources = draft ?? stored?.channels;
        if (!sources) throw new InvalidArgument('template_id', 'is required unless draft_channels are given');
        // A draft is previewed as version 0: the renderer re-parses a changed source under that key.
        const template: render.RenderTemplate = {
          templateId: templateId || '(draft)',
          version: draft ? 0 : (stored?.version ?? 0),
          channels: sources,
          variables: stored ? { required: stored.required_variables, optional: stored.optional_variables } : undefined,
        };
        const result = render.renderPreview(template, req.sampleData ?? null, channels.length > 0 ? { channels } : undefined);
        const previews: Record<string, notificationV1.RenderedPreview> = {};
        for (const p of Object.values(result.previews)) if (p) previews[p.channel] = toRenderedPreview(p);
        return { previews, validation: toValidationResult(result.validation) };
      },
    ),
    validateTemplate: unary(log, 'ValidateTemplate', async (req: notificationV1.ValidateTemplateRequest) => {
      const channels = toTemplateChannels('channels', req.channels);
      const result = render.validateTemplate(channels, {
        required: variables('required_variables', req.requiredVariables),
        optional: variables('optional_variables', req.optionalVariables),
        sample: req.sampleData ?? null,
      });
      return toValidationResult(result);
    }),
  };
}
