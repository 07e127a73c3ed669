import { signal } from '@preact/signals';
import type { ConsoleError, SessionView } from '@oncall/contracts/console-api';
import { here, navigate } from './router';

/** An error answer of the console API: the HTTP status and the server's readable message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The signed-in session; null before GET /api/session answered or after a 401. */
export const session = signal<SessionView | null>(null);

/** Sends the browser to the login page, remembering where to come back. */
export function toLogin(): void {
  if (window.location.pathname === '/login') return;
  session.value = null;
  navigate(`/login?next=${encodeURIComponent(here())}`, { replace: true });
}

/**
 * One call of the console API. JSON both ways (the server refuses other state-changing requests);
 * a 401 from any call sends the browser to /login. `acceptBody` lets a caller take a non-2xx answer
 * whose body it understands (an ActionResult saying "already resolved").
 */
export async function api<T>(
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
  acceptBody?: (b: unknown) => b is T,
): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (res.ok) return parsed as T;
  if (acceptBody?.(parsed)) return parsed;
  if (res.status === 401 && path !== '/api/session') toLogin();
  const err = parsed as Partial<ConsoleError> | undefined;
  throw new ApiError(res.status, err?.error ?? `${res.status} ${res.statusText || 'error'}`, err?.field);
}

/** The scopes the session holds, for hiding what the server would refuse anyway. */
export const can = (scope: 'respond' | 'write'): boolean => {
  const scopes = session.value?.scopes ?? [];
  return scopes.includes('admin') || scopes.includes(scope);
};
