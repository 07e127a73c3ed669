import { templateVersionKey, type Clock, type ConfigView, type Logger } from '@oncall/shared';
import { bundle } from '../domain/bundle.js';
import { buildRenderContext, renderNotification, type RenderTemplate } from '@oncall/shared/render';
import type { Stage } from './attempt.js';
import { toMessage } from './messages.js';
import { notificationActionUrl, type ActionLinks } from './action-links.js';

/**
 * Renders the message (the bundle of the attempt's notifications) with the template version the
 * escalator chose, through the same renderer as RenderPreview. A part that fails to render is
 * replaced by the built-in default: a broken template never stops a page.
 */
export function render(
  config: ConfigView,
  clock: Clock,
  publicUrl: string | null,
  log: Logger,
  actionSecret: string | null = null,
  consoleUrl: string | null = null,
): Stage {
  const links: ActionLinks | null = publicUrl && actionSecret ? { publicUrl, secret: actionSecret } : null;
  return async (a, next) => {
    const n = bundle(a.items);
    const channel = a.delivery.channel;
    const now = clock.now();
    const reply = a.phone?.code != null ? { code: a.phone.code, gatherUrl: a.phone.gatherUrl } : null;
    const actionUrl = links ? notificationActionUrl(links, n, channel, now) : null;
    const context = buildRenderContext(n, { now: new Date(now).toISOString(), publicUrl, consoleUrl, reply, actionUrl });
    const version =
      n.templateId && n.templateVersion
        ? config.state().templateVersions.get(templateVersionKey(n.templateId, n.templateVersion))
        : undefined;
    const template: RenderTemplate | null = version
      ? { templateId: version.templateId, version: version.version, channels: version.channels, variables: version.variables }
      : null;
    const rendered = renderNotification(template, channel, context);
    for (const w of rendered.warnings)
      if (w.code === 'TEMPLATE_FALLBACK')
        log.error(
          { templateId: template?.templateId, version: template?.version, channel, warning: w.message },
          'template part failed to render; sent the default',
        );
    return next({ ...a, message: toMessage(rendered, a.phone?.statusCallbackUrl ?? null) });
  };
}
