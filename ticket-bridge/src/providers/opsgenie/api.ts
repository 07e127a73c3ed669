import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { ProviderError, type ProviderContext } from '../types.js';
import { opsgenieError, unreachable } from './errors.js';
import type { OpsgenieSettings } from './settings.js';

/**
 * Opsgenie's REST API over plain fetch: it is small, and the npm `opsgenie-sdk` is unmaintained
 * (callbacks, no base URL for a local stand-in).
 */

/** Waits between asks for an asynchronous request's result: Opsgenie processes most within a second. */
const REQUEST_POLL_MS = [50, 100, 200, 400, 800];

export interface OpsgenieAnswer {
  status: number;
  body: unknown;
}

/** One call; a ProviderError unless 2xx (or 404 when `notFoundOk`). */
export async function opsgenieCall(
  ctx: ProviderContext,
  settings: OpsgenieSettings,
  method: 'GET' | 'POST',
  path: string,
  opts: { query?: Record<string, string>; body?: unknown; notFoundOk?: boolean } = {},
): Promise<OpsgenieAnswer> {
  const { auth } = ctx.config;
  if (auth.kind !== 'genie-key') throw new ProviderError(`Opsgenie signs in with genie-key, not ${auth.kind}`, false);
  const query = opts.query ? `?${new URLSearchParams(opts.query).toString()}` : '';
  const headers: Record<string, string> = { authorization: `GenieKey ${ctx.secret(auth.key)}`, accept: 'application/json' };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await ctx.fetch(`${settings.apiUrl}${path}${query}`, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
  } catch (err) {
    throw unreachable(err);
  }
  const text = await res.text();
  if (res.status === 404 && opts.notFoundOk) return { status: 404, body: null };
  if (!res.ok) throw opsgenieError(res.status, res.headers.get('retry-after'), text, ctx.now());
  try {
    return { status: res.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
  } catch {
    throw new ProviderError(`Opsgenie answered ${method} ${path} with a body that is not JSON`, true, res.status);
  }
}

const Accepted = z.object({ requestId: z.string().min(1) });
const RequestStatus = z.object({ data: z.object({ isSuccess: z.boolean(), status: z.string(), alertId: z.string().optional() }) });

/** The requestId of a 202 answer. */
export function requestIdOf(answer: OpsgenieAnswer): string {
  const parsed = Accepted.safeParse(answer.body);
  if (!parsed.success) throw new ProviderError('Opsgenie accepted the request without a requestId', false, answer.status);
  return parsed.data.requestId;
}

/**
 * What Opsgenie made of an asynchronous request: GET /v2/alerts/requests/{id} answers 404 until it
 * is processed (most are within a second); null when it still is not after the waits. A request
 * Opsgenie processed and refused (`isSuccess: false`, e.g. "Alert does not exist") is a
 * permanent ProviderError with its words (`what`: "create the alert", "close the alert").
 */
export async function requestOutcome(
  ctx: ProviderContext,
  settings: OpsgenieSettings,
  requestId: string,
  what: string,
): Promise<{ alertId: string | null } | null> {
  for (const wait of [0, ...REQUEST_POLL_MS]) {
    if (wait > 0) await sleep(wait);
    const answer = await opsgenieCall(ctx, settings, 'GET', `/v2/alerts/requests/${encodeURIComponent(requestId)}`, { notFoundOk: true });
    if (answer.status === 404) continue;
    const parsed = RequestStatus.safeParse(answer.body);
    if (!parsed.success) throw new ProviderError(`Opsgenie's status of request ${requestId} is not a request status`, false, answer.status);
    const { isSuccess, status, alertId } = parsed.data.data;
    if (!isSuccess) throw new ProviderError(`Opsgenie could not ${what}: ${status}`, false, answer.status);
    return { alertId: alertId ?? null };
  }
  return null;
}
