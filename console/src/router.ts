import { signal } from '@preact/signals';

/** Where the page is: path and query, kept in step with the History API. */
export type Location = Readonly<{ path: string; query: URLSearchParams }>;

const read = (): Location => ({ path: window.location.pathname, query: new URLSearchParams(window.location.search) });

export const location = signal<Location>(read());

/** Goes to `url` (same origin) without reloading; `replace` for changes that should not make a Back step (filters typed). */
export function navigate(url: string, opts: { replace?: boolean } = {}): void {
  if (url === window.location.pathname + window.location.search) return;
  if (opts.replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  location.value = read();
  if (!opts.replace) window.scrollTo(0, 0);
}

/** The current path and query, for "come back here after signing in". */
export const here = (): string => window.location.pathname + window.location.search;

/** Same-origin links navigate in the app; modified clicks (new tab) and other origins are left to the browser. */
export function startRouter(): void {
  window.addEventListener('popstate', () => (location.value = read()));
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest?.('a');
    if (!a || a.target || a.hasAttribute('download')) return;
    const url = new URL(a.href, window.location.href);
    if (url.origin !== window.location.origin || url.pathname.startsWith('/api/')) return;
    // In-page anchors (the skip link) stay the browser's.
    if (url.hash && url.pathname === window.location.pathname && url.search === window.location.search) return;
    e.preventDefault();
    navigate(url.pathname + url.search);
  });
}

/** Matches `/alerts/:id` style patterns; answers the parameters or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/');
  const s = path.split('/');
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const part = p[i]!;
    const seg = s[i]!;
    if (part.startsWith(':')) {
      if (!seg) return null;
      params[part.slice(1)] = decodeURIComponent(seg);
    } else if (part !== seg) return null;
  }
  return params;
}
