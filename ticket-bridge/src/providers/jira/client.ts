import type { ProviderContext } from '../types.js';
import { ProviderError } from '../types.js';
import { errorForAnswer, errorForNoAnswer } from './errors.js';
import { parseSettings, type JiraSettings } from './settings.js';

/**
 * Jira's REST API over the bridge's fetch (its timeout and keep-alive agent). jira.js 6 was not
 * used: it calls the global fetch (no timeout or agent of ours), speaks only the Cloud v3 surface
 * (no Server/DC v2) and needs Node 22.
 */
export interface JiraClient {
  settings: JiraSettings;
  /** `/rest/api/<version>` + path; JSON in and out; a non-2xx answer or no answer throws ProviderError. */
  call<T>(method: 'GET' | 'POST' | 'PUT', path: string, action: string, body?: unknown): Promise<T>;
}

export function jiraClient(ctx: ProviderContext): JiraClient {
  const settings = parseSettings(ctx.config);
  const { authorization, who } = credentials(ctx);
  const base = `${settings.baseUrl}/rest/api/${settings.apiVersion}`;
  return {
    settings,
    async call<T>(method: 'GET' | 'POST' | 'PUT', path: string, action: string, body?: unknown): Promise<T> {
      let res: Response;
      try {
        res = await ctx.fetch(`${base}${path}`, {
          method,
          headers: {
            authorization,
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      } catch (err) {
        throw errorForNoAnswer(err, action, settings.baseUrl);
      }
      const text = await res.text().catch(() => '');
      const parsed = parseJson(text);
      if (!res.ok) {
        throw errorForAnswer({ status: res.status, retryAfter: res.headers.get('retry-after'), body: parsed, action, who }, ctx.now());
      }
      return parsed as T;
    },
  };
}

function credentials(ctx: ProviderContext): { authorization: string; who: string } {
  const auth = ctx.config.auth;
  if (auth.kind === 'basic') {
    const token = Buffer.from(`${auth.username}:${ctx.secret(auth.password)}`).toString('base64');
    return { authorization: `Basic ${token}`, who: auth.username };
  }
  if (auth.kind === 'bearer') return { authorization: `Bearer ${ctx.secret(auth.token)}`, who: 'the bearer token' };
  throw new ProviderError(`Jira signs in with basic or bearer auth, not ${auth.kind}`, false);
}

function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
