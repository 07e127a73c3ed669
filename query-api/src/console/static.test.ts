import { describe, expect, it } from 'vitest';
import { cacheControlOf, spaFallback } from './static.js';

describe('static console files', () => {
  it.each([
    ['/assets/index-abc123.js', 'public, max-age=31536000, immutable'],
    ['assets/index-abc123.css', 'public, max-age=31536000, immutable'],
    ['/index.html', 'no-cache'],
    ['/favicon.svg', 'no-cache'],
    ['/not-assets/x.js', 'no-cache'],
  ])('%s is cached as %s', (path, header) => {
    expect(cacheControlOf(path)).toBe(header);
  });

  it.each([
    ['GET', '/', true],
    ['GET', '/alerts/5b1f8a52-3c1e-4f0a-9a57-1f0c2d9e7a41', true],
    ['GET', '/oncall?days=7', true],
    ['HEAD', '/health', true],
    ['GET', '/login', true],
    ['GET', '/api/board', false],
    ['GET', '/api', false],
    ['GET', '/api?x=1', false],
    ['GET', '/apiary', true],
    ['GET', '/assets/missing.js', false],
    ['POST', '/alerts/x', false],
  ])('%s %s falls back to the page: %s', (method, url, fallback) => {
    expect(spaFallback(method, url)).toBe(fallback);
  });
});
