import { EventEmitter } from 'node:events';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

/**
 * What a fake does instead of answering normally: an HTTP status (with headers and a body; the
 * fake fills in a provider-shaped error body when none is given), a dropped connection, or no
 * answer at all until the fake is closed.
 */
export type HttpFailure = { status: number; headers?: Record<string, string>; body?: unknown } | { drop: true } | { hang: true };

/** The raw HTTP request a fake received. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Failures queued for the next requests, in order; each is used `times` times. */
export class FailurePlan<F> {
  private readonly queue: F[] = [];

  add(failure: F, times = 1): void {
    for (let i = 0; i < times; i += 1) this.queue.push(failure);
  }

  take(): F | undefined {
    return this.queue.shift();
  }

  clear(): void {
    this.queue.length = 0;
  }

  get pending(): number {
    return this.queue.length;
  }
}

/** Items a fake recorded, with a wait for end-to-end tests ("until the SMS arrived"). */
export class Recorder<T> {
  readonly items: T[] = [];
  private readonly events = new EventEmitter();

  push(item: T): void {
    this.items.push(item);
    this.events.emit('item');
  }

  clear(): void {
    this.items.length = 0;
  }

  /** Resolves with the items once at least `count` are there; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs = 5_000): Promise<T[]> {
    if (this.items.length >= count) return Promise.resolve([...this.items]);
    return new Promise((resolve, reject) => {
      const onItem = (): void => {
        if (this.items.length < count) return;
        clearTimeout(timer);
        this.events.off('item', onItem);
        resolve([...this.items]);
      };
      const timer = setTimeout(() => {
        this.events.off('item', onItem);
        reject(new Error(`expected ${count} recorded item(s) within ${timeoutMs} ms, got ${this.items.length}`));
      }, timeoutMs);
      this.events.on('item', onItem);
    });
  }
}

export interface RunningHttpServer {
  port: number;
  /** Stops listening and ends every open connection (hung requests included). Idempotent. */
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void | Promise<void>;

/**
 * An HTTP (or, with `tls`, HTTPS) server on 127.0.0.1 and a free port, reading each request's
 * body before calling `handler`. A handler that throws answers 500.
 */
export async function startHttpServer(handler: Handler, opts: { tls?: { key: string; cert: string } } = {}): Promise<RunningHttpServer> {
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    readBody(req)
      .then((body) => handler(req, res, body))
      .catch((err: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: String(err) });
      });
  };
  const server =
    opts.tls === undefined ? http.createServer(listener) : https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, listener);
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | null = null;
  return {
    port,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * Answers with `failure`; `errorBody(status)` gives the provider's error shape when the failure
 * has no body of its own.
 */
export function sendFailure(req: IncomingMessage, res: ServerResponse, failure: HttpFailure, errorBody: (status: number) => unknown): void {
  if ('drop' in failure) {
    req.socket.destroy();
    return;
  }
  if ('hang' in failure) return;
  const body = failure.body ?? errorBody(failure.status);
  if (typeof body === 'string') {
    res.writeHead(failure.status, { 'content-type': 'text/plain', ...failure.headers });
    res.end(body);
    return;
  }
  sendJson(res, failure.status, body, failure.headers);
}

/** The request as recorded by every fake. */
export function recordOf(req: IncomingMessage, body: string): RecordedRequest {
  return { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body };
}

/** The Bearer token of a request, or null. */
export function bearerToken(req: IncomingMessage): string | null {
  const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  return match?.[1] ?? null;
}
