import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leanFetch, requestFetch } from './request-fetch.js';

/** A local server answering by path: what fetch semantics the notifiers rely on. */
describe('requestFetch', () => {
  let server: Server;
  let base: string;
  const seen: Array<{ method?: string; headers: Record<string, unknown>; body: string }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, headers: req.headers, body });
        if (req.url === '/redirect') res.writeHead(302, { location: '/elsewhere' }).end();
        else if (req.url === '/empty') res.writeHead(204).end();
        else if (req.url === '/hang')
          return; // never answers
        else
          res
            .writeHead(429, [
              ['retry-after', '7'],
              ['set-cookie', 'a=1'],
              ['set-cookie', 'b=2'],
              ['content-type', 'application/json'],
            ])
            .end('{"ok":false}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('sends method, headers and body, and answers status, headers and body like fetch', async () => {
    const res = await requestFetch(`${base}/x`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer t' },
      body: '{"a":1}',
    });
    expect(seen.at(-1)).toMatchObject({
      method: 'POST',
      body: '{"a":1}',
      headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
    });
    expect(res.status).toBe(429);
    expect(res.statusText).toBe('Too Many Requests');
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.headers.getSetCookie()).toStrictEqual(['a=1', 'b=2']);
    expect(await res.json()).toStrictEqual({ ok: false });
  });

  it('form-encodes URLSearchParams with its content type', async () => {
    await requestFetch(new URL(`${base}/x`), { method: 'POST', body: new URLSearchParams({ To: '+15555550101', Body: 'a b&c' }) });
    expect(seen.at(-1)).toMatchObject({
      body: 'To=%2B15555550101&Body=a+b%26c',
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
    });
  });

  it("answers a 204 with no body, and a redirect as its 3xx unless redirect is 'error'", async () => {
    const empty = await requestFetch(`${base}/empty`, { method: 'POST', body: '' });
    expect([empty.status, empty.body]).toStrictEqual([204, null]);
    expect((await requestFetch(`${base}/redirect`, { method: 'POST', body: 'x', redirect: 'manual' })).status).toBe(302);
    await expect(requestFetch(`${base}/redirect`, { method: 'POST', body: 'x', redirect: 'error' })).rejects.toThrow(TypeError);
  });

  it("rejects with the signal's reason on abort, and with TypeError('fetch failed') when nothing listens", async () => {
    await expect(requestFetch(`${base}/hang`, { method: 'POST', body: 'x', signal: AbortSignal.timeout(100) })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(requestFetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'x' })).rejects.toMatchObject({
      message: 'fetch failed',
      cause: { code: 'ECONNREFUSED' },
    });
  });

  it('leanFetch: the same request, an answer of what the Slack SDK reads (status, headers, text, json)', async () => {
    const res = await leanFetch(`${base}/x`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
    });
    expect(seen.at(-1)).toMatchObject({ method: 'POST', body: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect([res.status, res.statusText, res.ok, res.url]).toStrictEqual([429, 'Too Many Requests', false, `${base}/x`]);
    expect(res.headers.get('Retry-After')).toBe('7');
    expect(res.headers.get('x-missing')).toBeNull();
    expect(Object.fromEntries(res.headers.entries())).toMatchObject({ 'retry-after': '7', 'content-type': 'application/json' });
    expect(await res.text()).toBe('{"ok":false}');
    expect(await res.json()).toStrictEqual({ ok: false });
    await expect(leanFetch(`${base}/redirect`, { method: 'POST', body: 'x', redirect: 'error' })).rejects.toThrow(TypeError);
    await expect(leanFetch(`${base}/hang`, { method: 'POST', body: 'x', signal: AbortSignal.timeout(100) })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
  });
});
