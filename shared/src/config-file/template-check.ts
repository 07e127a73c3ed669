import * as render from '@oncall/shared/render';
import type { TemplateValidator } from './file.js';

/** Templates are checked at apply with the dispatcher's renderer: the one that will send them. */
export const validateTemplate: TemplateValidator = (t) =>
  render
    .validateTemplate(t.channels, { required: t.variables.required, optional: t.variables.optional })
    .errors.map((e) => ({ channel: e.field, message: `line ${e.line}, column ${e.column}: ${e.message}` }));
