import type { DatabasePool } from 'slonik';
import type { notificationV1 } from '@oncall/contracts';
import type { Logger } from '@oncall/shared';
import { createdId, routingUsing } from './config-issues.js';
import { writerOrUnavailable, type ConfigWriter } from './config-writes.js';
import { AlreadyExists, FailedPrecondition, InvalidArgument, NotFound } from './errors.js';
import { unary } from './handlers.js';
import { getTemplateVersion } from './read-model/templates.js';
import { toProtoTemplate } from './template-mapping.js';
import { templateField, toFileTemplate } from './template-write-mapping.js';
import { required } from './validate.js';

/**
 * Create, update and delete of templates: configuration writes (ConfigWriter) with the checks of
 * `oncall apply`, the renderer's among them. A create publishes version 1, an update that changes
 * the content the next version (none when nothing changed). The author of a version is the
 * caller, not `created_by_user_id`/`updated_by_user_id`; change notes are not stored.
 */
export function templateWrites(
  pool: DatabasePool,
  log: Logger,
  writer: ConfigWriter | null,
): Pick<notificationV1.TemplateServiceServer, 'createTemplate' | 'updateTemplate' | 'deleteTemplate'> {
  const read = async (id: string): Promise<notificationV1.Template> => {
    const row = await getTemplateVersion(pool, id, 0);
    if (!row) throw new NotFound(`template ${id} not found`);
    return toProtoTemplate(row);
  };
  return {
    createTemplate: unary(log, 'CreateTemplate', async (req: notificationV1.CreateTemplateRequest, ctx) => {
      const w = writerOrUnavailable(writer);
      const template = toFileTemplate({ ...req, id: createdId(req.id, req.name) });
      await w.write((file) => {
        if (file.templates.some((t) => t.id === template.id)) throw new AlreadyExists(`template ${template.id} already exists`);
        file.templates.push(template);
        return { section: 'templates', at: file.templates.length - 1, field: templateField };
      }, ctx);
      return read(template.id);
    }),
    updateTemplate: unary(log, 'UpdateTemplate', async (req: notificationV1.UpdateTemplateRequest, ctx) => {
      const w = writerOrUnavailable(writer);
      const id = required('id', req.id);
      if (req.changeNote !== '') throw new InvalidArgument('change_note', 'change notes are not stored: leave it empty');
      const template = toFileTemplate(req);
      await w.write((file) => {
        const at = file.templates.findIndex((t) => t.id === id);
        if (at < 0) throw new NotFound(`template ${id} not found`);
        file.templates[at] = template;
        return { section: 'templates', at, field: templateField };
      }, ctx);
      return read(id);
    }),
    deleteTemplate: unary(log, 'DeleteTemplate', async (req: notificationV1.DeleteTemplateRequest, ctx) => {
      const w = writerOrUnavailable(writer);
      const id = required('id', req.id);
      await w.write(
        (file) => {
          const at = file.templates.findIndex((t) => t.id === id);
          if (at < 0) throw new NotFound(`template ${id} not found`);
          const services = routingUsing(file, 'template', id);
          if (services.length > 0)
            throw new FailedPrecondition(`template ${id} is used by the routing of ${services.map((s) => `service ${s}`).join(', ')}`);
          file.templates.splice(at, 1);
          return null;
        },
        ctx,
        [{ section: 'templates', id }],
      );
      return { deleted: true };
    }),
  };
}
