import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '@oncall/shared';
import type { ListPool } from '../read-model/alerts.js';
import type { ConsoleAuth } from './auth.js';
import { readBoard } from './board-read.js';
import { formatCursor, parseCursor } from './cursor.js';
import { HttpError } from './http-errors.js';
import type { BoardClient, BoardHub } from './hub.js';
import { SESSION_COOKIE } from './session.js';

const gzipped = promisify(gzip);
/** Snapshots at least this long go gzipped to a browser that accepts it (10,000 alerts: 5 MB of JSON). */
const GZIP_FROM_BYTES = 1024;

/** How often a live stream checks that its session still holds (a revoked token ends it). */
const SESSION_CHECK_MS = 15_000;

/** `GET /api/board` (the snapshot) and `GET /api/board/events` (the live stream, server-sent events). */
export function registerBoardRoutes(
  app: FastifyInstance,
  deps: { auth: ConsoleAuth; listPool: ListPool; hub: BoardHub | null; log: Logger },
): void {
  const { auth, listPool, hub } = deps;

  app.get('/api/board', async (req, reply) => {
    await auth.require(req, reply, 'read');
    // The hub first: the snapshot's cursor is then one its window continues.
    await hub?.ready();
    const board = await readBoard(listPool);
    const body = `{"cursor":${JSON.stringify(formatCursor(board.cursor))},"alerts":${JSON.stringify(board.rows.map((r) => r.alert))}}`;
    void reply.type('application/json; charset=utf-8').header('vary', 'accept-encoding');
    if (body.length < GZIP_FROM_BYTES || !/\bgzip\b/i.test(req.headers['accept-encoding'] ?? '')) return reply.send(body);
    // Level 1, off the event loop: a NOC screen across a WAN gets the board in a tenth of the bytes.
    return reply.header('content-encoding', 'gzip').send(await gzipped(body, { level: 1 }));
  });

  app.get('/api/board/events', async (req, reply) => {
    await auth.require(req, reply, 'read');
    if (!hub) throw new HttpError(503, 'the live board needs the projection feed (DATABASE_URL), which this server was started without');
    const q = req.query as { cursor?: unknown };
    const text = typeof q.cursor === 'string' ? q.cursor : (req.headers['last-event-id'] as string | undefined);
    const cursor = text === undefined || text === '' ? null : parseCursor(text);
    if (text !== undefined && text !== '' && cursor === null)
      throw new HttpError(400, 'cursor: use the cursor of GET /api/board ("<alerts>.<escalations>")', 'cursor');

    const raw = reply.raw;
    reply.hijack();
    raw.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    raw.flushHeaders();
    raw.write('retry: 2000\n\n');
    const client: BoardClient = {
      write: (frame) => (raw.writableEnded ? true : raw.write(frame)),
      end: () => {
        if (!raw.writableEnded) raw.end();
      },
    };
    const sessionId = req.cookies[SESSION_COOKIE]!;
    const check = setInterval(() => {
      auth.stillValid(sessionId).then(
        (ok) => {
          if (!ok) {
            hub.disconnect(client);
            client.end();
          }
        },
        (err: unknown) => deps.log.warn({ err }, 'live board could not check its session'),
      );
    }, SESSION_CHECK_MS);
    check.unref();
    raw.on('drain', () => hub.drained(client));
    let gone = false;
    raw.on('close', () => {
      gone = true;
      clearInterval(check);
      hub.disconnect(client);
    });
    try {
      // A browser that left while the hub was getting ready is not kept.
      if ((await hub.connect(client, cursor)) && gone) hub.disconnect(client);
    } catch (err) {
      deps.log.warn({ err }, 'live board connection failed');
      client.end();
    }
  });
}
