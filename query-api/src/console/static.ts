import { existsSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** `console/dist` of this repository (query-api/src/console → the repository root). */
export const DEFAULT_CONSOLE_DIST = fileURLToPath(new URL('../../../console/dist/', import.meta.url));

const MISSING = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>oncall console: not built</title></head>
<body><h1>The console is not built</h1><p>Run <code>npm run build:console</code> and reload this page.</p></body></html>`;

/** Hashed assets never change under their name: cached for a year; everything else is checked each time. */
export const cacheControlOf = (relativePath: string): string =>
  /^\/?assets\//.test(relativePath.split(sep).join('/')) ? 'public, max-age=31536000, immutable' : 'no-cache';

/** Whether a GET falls back to the page (the browser app's own routes: /alerts/<id>, /oncall, /health, /login). */
export const spaFallback = (method: string, url: string): boolean =>
  (method === 'GET' || method === 'HEAD') && !/^\/api(\/|$|\?)/.test(url) && !/^\/assets\//.test(url);

/**
 * Serves the built console from `dist` with the single-page fallback to index.html. When the build
 * is missing, pages answer 503 saying how to build it (the API works regardless). Returns the
 * not-found handler's part for pages: true when it answered.
 */
export async function registerStatic(
  app: FastifyInstance,
  dist: string,
): Promise<{ built: boolean; fallback: (req: FastifyRequest, reply: FastifyReply) => boolean }> {
  const built = existsSync(join(dist, 'index.html'));
  if (!built) {
    return {
      built,
      fallback: (req, reply) => {
        if (!spaFallback(req.method, req.url)) return false;
        void reply.code(503).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(MISSING);
        return true;
      },
    };
  }
  await app.register(fastifyStatic, {
    root: dist,
    prefix: '/',
    wildcard: true,
    index: ['index.html'],
    cacheControl: false,
    dotfiles: 'deny',
    setHeaders: (reply, path) => {
      void reply.header('cache-control', cacheControlOf(path.slice(dist.length)));
    },
  });
  return {
    built,
    fallback: (req, reply) => {
      if (!spaFallback(req.method, req.url)) return false;
      void reply.header('cache-control', 'no-cache').sendFile('index.html');
      return true;
    },
  };
}
