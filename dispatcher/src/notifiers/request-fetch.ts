import { STATUS_CODES } from 'node:http';
import { Agent, request, type Dispatcher } from 'undici';

/** One keep-alive pool per process for the providers' HTTP APIs (per origin, up to 128 sockets). */
const agent = new Agent({ connections: 128, keepAliveTimeout: 30_000 });

const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * `fetch` for the notifiers' own POSTs, over undici's `request`: the same request on the wire
 * and a standard Response, for about 40% of the CPU of Node 20's fetch per call (0.31 ms against
 * 0.76 ms, a local Slack fake included), which is most of what a page costs the dispatcher.
 *
 * Scope: string bodies, bytes and URLSearchParams (anything else goes to the global fetch);
 * redirects are never followed: `redirect: 'error'` rejects like fetch, anything else answers
 * the 3xx itself. Failures reject like fetch: the signal's reason on abort, otherwise
 * `TypeError('fetch failed')` with the transport error as its cause.
 */
export async function requestFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  const body = init.body;
  if (
    input instanceof Request ||
    !(body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array || body instanceof URLSearchParams)
  ) {
    return fetch(input, init);
  }
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((value, name) => (headers[name] = value));
  if (body instanceof URLSearchParams) headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8';
  const signal = init.signal ?? undefined;
  let res;
  try {
    res = await request(input, {
      method: (init.method ?? 'GET') as 'POST',
      headers,
      body: body instanceof URLSearchParams ? body.toString() : body,
      signal,
      dispatcher: agent,
    });
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw new TypeError('fetch failed', { cause: err });
  }
  const bytes = await res.body.arrayBuffer().catch((err: unknown) => {
    if (signal?.aborted) throw signal.reason;
    throw new TypeError('fetch failed', { cause: err });
  });
  if (init.redirect === 'error' && res.statusCode >= 300 && res.statusCode < 400 && res.headers.location !== undefined) {
    throw new TypeError('fetch failed', { cause: new Error('unexpected redirect') });
  }
  const responseHeaders = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (Array.isArray(value)) for (const v of value) responseHeaders.append(name, v);
    else if (value !== undefined) responseHeaders.set(name, value);
  }
  return new Response(NULL_BODY.has(res.statusCode) ? null : bytes, {
    status: res.statusCode,
    statusText: STATUS_CODES[res.statusCode] ?? '',
    headers: responseHeaders,
  });
}

/** The headers of a `leanFetch` answer: what a Response's Headers offers for reading. */
class LeanHeaders {
  constructor(private readonly raw: Record<string, string | string[] | undefined>) {}
  get(name: string): string | null {
    const v = this.raw[name.toLowerCase()];
    return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
  }
  has(name: string): boolean {
    return this.raw[name.toLowerCase()] !== undefined;
  }
  *entries(): IterableIterator<[string, string]> {
    for (const name of Object.keys(this.raw)) {
      const v = this.get(name);
      if (v !== null) yield [name, v];
    }
  }
  keys(): IterableIterator<string> {
    return Object.keys(this.raw).values();
  }
  forEach(fn: (value: string, name: string) => void): void {
    for (const [name, value] of this.entries()) fn(value, name);
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

/**
 * `requestFetch` for callers that read an answer only through `status`, `statusText`, `ok`, `url`,
 * `headers.get/has/entries/forEach` and `text()`/`json()`/`arrayBuffer()` — the Slack SDK
 * (@slack/web-api 8: buildResult, parseRetryHeaders, WebAPIHTTPError) and our own call context.
 * The answer is a plain object of that shape instead of a WHATWG Response: building a Response
 * (Headers, a web ReadableStream over the bytes) and reading it back cost about as much CPU as
 * the request itself. Request side, failures and redirects: as `requestFetch`.
 */
export async function leanFetch(input: string | URL | Request, init: RequestInit = {}, pool: Dispatcher = agent): Promise<Response> {
  const body = init.body;
  const plainHeaders =
    init.headers === undefined || (typeof init.headers === 'object' && !(init.headers instanceof Headers) && !Array.isArray(init.headers));
  if (
    input instanceof Request ||
    !plainHeaders ||
    !(body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array)
  ) {
    return requestFetch(input, init);
  }
  const signal = init.signal ?? undefined;
  let res;
  let bytes: Buffer;
  try {
    res = await request(input, {
      method: (init.method ?? 'GET') as 'POST',
      headers: init.headers as Record<string, string> | undefined,
      body,
      signal,
      dispatcher: pool,
    });
    bytes = Buffer.from(await res.body.arrayBuffer());
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw new TypeError('fetch failed', { cause: err });
  }
  if (init.redirect === 'error' && res.statusCode >= 300 && res.statusCode < 400 && res.headers.location !== undefined) {
    throw new TypeError('fetch failed', { cause: new Error('unexpected redirect') });
  }
  const text = () => (NULL_BODY.has(res.statusCode) ? '' : bytes.toString('utf8'));
  const lean = {
    status: res.statusCode,
    statusText: STATUS_CODES[res.statusCode] ?? '',
    ok: res.statusCode >= 200 && res.statusCode < 300,
    url: String(input),
    redirected: false,
    headers: new LeanHeaders(res.headers),
    text: async () => text(),
    json: async () => JSON.parse(text()) as unknown,
    arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  };
  return lean as unknown as Response;
}

/** `leanFetch` through a keep-alive pool of its own (`connections` sockets per origin), e.g. so one client's calls never queue behind another's. */
export function leanFetchWith(connections: number): (input: string | URL | Request, init?: RequestInit) => Promise<Response> {
  const own = new Agent({ connections, keepAliveTimeout: 30_000 });
  return (input, init) => leanFetch(input, init, own);
}
