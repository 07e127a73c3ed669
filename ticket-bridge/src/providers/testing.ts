import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { InboundRejected, ProviderError, type InboundChange, type ProviderContext, type TicketProvider } from './types.js';

/**
 * Helpers for the providers' tests against their stand-ins (test code only: imports vitest).
 */

/** The ProviderError a call rejects with (fails the test when it resolves or throws something else). */
export async function failureOf(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

/** The bridge's inbound endpoint, reduced to what a provider does with a call: `receive`, then 200 or the refusal's status. */
export async function inboundEndpoint(
  provider: TicketProvider,
  ctx: ProviderContext,
  providerId: string,
): Promise<{ url: string; changes: InboundChange[]; close: () => Promise<void> }> {
  const changes: InboundChange[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://bridge');
      const request = {
        method: req.method ?? '',
        path: url.pathname,
        headers: req.headers,
        query: url.searchParams,
        body: Buffer.concat(chunks),
      };
      provider.receive!(ctx, request).then(
        (got) => {
          changes.push(...got);
          res.writeHead(200).end();
        },
        (err: unknown) => res.writeHead(err instanceof InboundRejected ? err.httpStatus : 500).end(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/tickets/${providerId}/events`,
    changes,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
