import type { DatabasePool } from 'slonik';
import type { notificationV1 } from '@oncall/contracts/grpc';
import type { Logger } from '@oncall/shared';
import { createdId } from './config-issues.js';
import { createElement, removeElement, replaceElement } from './element-edits.js';
import { writerOrUnavailable, type ConfigWriter } from './config-writes.js';
import { InvalidArgument, NotFound } from './errors.js';
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
      await w.write(createElement('templates', template, templateField), ctx);
      return read(template.id);
    }),
    updateTemplate: unary(log, 'UpdateTemplate', async (req: notificationV1.UpdateTemplateRequest, ctx) => {
      const w = writerOrUnavailable(writer);
      const id = required('id', req.id);
      if (req.changeNote !== '') throw new InvalidArgument('change_note', 'change notes are not stored: leave it empty');
      await w.write(replaceElement('templates', toFileTemplate(req), templateField), ctx);
      return read(id);
    }),
    deleteTemplate: unary(log, 'DeleteTemplate', async (req: notificationV1.DeleteTemplateRequest, ctx) => {
      const w = writerOrUnavailable(writer);
      const id = required('id', req.id);
      await w.write(removeElement('templates', id), ctx, [{ section: 'templates', id }]);
      return { deleted: true };
    }),
  };
}
