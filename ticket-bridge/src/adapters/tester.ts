import type { Subscription } from '@nats-io/transport-node';
import { TICKET_TEST_SUBJECT, TicketTestRequest, type TicketTestReply } from '@oncall/contracts';
import { fieldInputOf, sampleAlert } from '../domain/alert.js';
import { loadAlert } from './alerts.js';
import { timed } from './creator.js';
import type { Deps } from './deps.js';

export { TICKET_TEST_SUBJECT };

/**
 * Answers `oncall.tickets.test` with `{ ok, error, fields, latencyMs }`: the provider's fields
 * evaluated for the alert (or a sample alert) and a cheap authenticated call (`check`).
 */
export function serveTests(d: Deps): Subscription {
  return d.nc.subscribe(TICKET_TEST_SUBJECT, {
    queue: 'ticket-bridge',
    callback: (err, msg) => {
      if (err) return;
      void answer(d, msg.data).then(
        (a) => msg.respond(JSON.stringify(a)),
        (e: unknown) => msg.respond(JSON.stringify({ ok: false, error: (e as Error).message, fields: null, latencyMs: null })),
      );
    },
  });
}

async function answer(d: Deps, data: Uint8Array): Promise<TicketTestReply> {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(data));
  } catch {
    return { ok: false, error: 'the request is not JSON', fields: null, latencyMs: null };
  }
  const req = TicketTestRequest.safeParse(raw);
  if (!req.success) return { ok: false, error: `bad request: ${req.error.issues[0]?.message ?? 'invalid'}`, fields: null, latencyMs: null };
  const c = d.providers.get(req.data.providerId);
  if (c === undefined) return { ok: false, error: `no ticket provider ${req.data.providerId}`, fields: null, latencyMs: null };
  if ('error' in c) return { ok: false, error: c.error, fields: null, latencyMs: null };
  let alert;
  if (req.data.alertId === null) {
    const service = d.config.state().services.values().next().value;
    alert = sampleAlert({ id: service?.serviceId ?? 'sample', name: service?.name ?? 'Sample service' });
  } else {
    alert = await loadAlert(d.nc, d.js, d.config, { alertId: req.data.alertId, publicUrl: d.publicUrl, partitions: d.partitions });
    if (!alert) return { ok: false, error: `no alert ${req.data.alertId}`, fields: null, latencyMs: null };
  }
  let fields: Record<string, unknown>;
  try {
    fields = c.fields.evaluate(fieldInputOf(alert));
  } catch (err) {
    return { ok: false, error: (err as Error).message, fields: null, latencyMs: null };
  }
  const started = performance.now();
  try {
    await timed(c.config.providerId, 'check', () => c.provider.check(c.ctx));
  } catch (err) {
    return { ok: false, error: (err as Error).message, fields, latencyMs: Math.round(performance.now() - started) };
  }
  d.providers.markHealth(c.config.providerId, true);
  return { ok: true, error: null, fields, latencyMs: Math.round(performance.now() - started) };
}
