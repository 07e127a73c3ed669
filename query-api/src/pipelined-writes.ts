import type { ServerWritableStream } from '@grpc/grpc-js';

type Chunk = { chunk: unknown };
type Internals = { call?: { sendMessage?: (message: unknown, callback: () => void) => void } };

/**
 * Lets a server stream hand every message buffered while one is being sent to HTTP/2 together.
 * grpc-js's server stream has no `_writev`: it sends one message and the next only from the
 * previous one's write completion, an event-loop turn per message. With `_writev`, Node's Writable
 * passes the buffered messages at once; each goes through grpc-js's own `sendMessage` (serialised,
 * framed, written to the HTTP/2 stream, which batches them in turn) and the batch completes with
 * the last, in order. Measured with bench:query (docs/performance.md). It relies on a grpc-js
 * internal (`ServerWritableStreamImpl.call.sendMessage`, 1.14): without it the stream stays as is
 * and this returns false (pipelined-writes.int.test.ts fails then, so an upgrade is noticed).
 */
export function pipelineWrites(call: ServerWritableStream<unknown, unknown>): boolean {
  const inner = (call as unknown as Internals).call;
  const sendMessage = inner?.sendMessage;
  if (typeof sendMessage !== 'function') return false;
  Object.defineProperty(call, '_writev', {
    value: (chunks: Chunk[], callback: () => void) => {
      let left = chunks.length;
      for (const { chunk } of chunks)
        sendMessage.call(inner, chunk, () => {
          if (--left === 0) callback();
        });
    },
  });
  return true;
}
