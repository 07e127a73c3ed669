import { Metadata, type sendUnaryData, type ServerDuplexStream, type ServerUnaryCall, type ServerWritableStream } from '@grpc/grpc-js';
import type { Logger } from '@oncall/shared';
import { unstorablePaths } from '@oncall/contracts';
import { Undecodable } from './decoding.js';
import { ApiError, InvalidArgument, toServiceError } from './errors.js';
import { pipelineWrites } from './pipelined-writes.js';
import { callerOf } from './auth/interceptor.js';
import type { Caller } from './domain/auth.js';

/** What a handler learns about its call besides the request. */
export type CallContext = Readonly<{
  /** Aborted when the client cancels or its deadline passes. */
  signal: AbortSignal;
  /** The client's deadline (epoch ms), or null when it set none. */
  deadline: number | null;
  /** The `x-oncall-via` metadata header as sent (the surface a client acts from, e.g. `cli`), or null. */
  via?: string | null;
  /** The client's address (`ipv4:127.0.0.1:53412`); read-your-writes remembers writes per caller (consistency.ts). */
  peer?: string;
  /** The request metadata as sent. */
  metadata?: Metadata;
  /** Sends response headers (before the answer), e.g. the log sequence a write produced. */
  sendMetadata?: (metadata: Metadata) => void;
  /**
   * The authenticated token (auth/interceptor.ts): its id, the user it acts as and its scopes. An
   * actor field of the request was checked against it (and filled in with a user-bound token's user).
   */
  caller?: Caller | null;
}>;

function contextOf(call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>): CallContext {
  const controller = new AbortController();
  call.once('cancelled', () => controller.abort());
  const d = call.getDeadline();
  const deadline = d instanceof Date ? d.getTime() : Number.isFinite(d) ? d : null;
  const [via] = call.metadata.get('x-oncall-via');
  return {
    signal: controller.signal,
    deadline,
    via: via === undefined ? null : String(via),
    peer: call.getPeer(),
    metadata: call.metadata,
    sendMetadata: (md) => call.sendMetadata(md),
    caller: callerOf(call.metadata),
  };
}

function failed(log: Logger, method: string, err: unknown, ctx: CallContext): void {
  // A call the client gave up on fails with whatever was waiting; nobody reads the answer.
  if (ctx.signal.aborted) log.debug({ err, method }, 'request cancelled by the client');
  else if (!(err instanceof ApiError)) log.error({ err, method }, 'request failed');
}

/**
 * Text PostgreSQL cannot store (NUL, lone surrogates: legal in protobuf strings) is refused with
 * the field named before a handler sees the request, as every other bad input is; so is a request
 * that did not decode.
 */
async function storable<Req>(request: Req): Promise<Req> {
  if (request instanceof Undecodable) throw new InvalidArgument('(request)', `cannot be decoded: ${request.reason}`);
  const [path] = unstorablePaths(request);
  if (!path) return request;
  // Named as the proto names fields (snake_case), like every other field error.
  const field = path.map((p) => (typeof p === 'string' ? p.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) : p)).join('.');
  throw new InvalidArgument(field || '(request)', 'holds a NUL character or a lone surrogate, which PostgreSQL cannot store');
}

/** A unary handler from an async function; errors map to a status in one place. */
export function unary<Req, Res>(log: Logger, method: string, run: (request: Req, ctx: CallContext) => Promise<Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    const ctx = contextOf(call);
    storable(call.request)
      .then((request) => run(request, ctx))
      .then(
        (res) => callback(null, res),
        (err: unknown) => {
          failed(log, method, err, ctx);
          callback(toServiceError(err), null);
        },
      );
  };
}

/** Messages a server stream buffers before it waits for them to drain (measured: bench:query). */
const STREAM_BUFFER = 256;

/** Writes one message, waiting for the stream to drain when its buffer is full. */
export type Write<Res> = (message: Res) => Promise<void>;

export type StreamContext = CallContext &
  Readonly<{
    /** Sends the response headers now (before the first message): tells the client the stream is set up. */
    sendHeaders: () => void;
  }>;

/**
 * A server-streaming handler from an async function that writes messages; the stream ends when
 * it returns, with the trailing metadata it returns if any (a list's next page token). Nothing is
 * written once the client has cancelled.
 */
export function serverStream<Req, Res>(
  log: Logger,
  method: string,
  run: (request: Req, write: Write<Res>, ctx: StreamContext) => Promise<Metadata | void>,
) {
  return (call: ServerWritableStream<Req, Res>): void => {
    pipelineWrites(call);
    const ctx: StreamContext = { ...contextOf(call), sendHeaders: () => call.sendMetadata(new Metadata()) };
    const write: Write<Res> = async (message) => {
      if (call.cancelled) return;
      // Past grpc-js's 16 messages, up to STREAM_BUFFER: each batch handed to HTTP/2 is larger.
      if (call.write(message) || call.writableLength < STREAM_BUFFER) return;
      // Each wait removes what it added: a long stream waits thousands of times.
      await new Promise<void>((resolve) => {
        const done = () => {
          call.off('drain', done);
          ctx.signal.removeEventListener('abort', done);
          resolve();
        };
        call.once('drain', done);
        ctx.signal.addEventListener('abort', done, { once: true });
      });
    };
    storable(call.request)
      .then((request) => run(request, write, ctx))
      .then(
        (trailer) => {
          if (!call.cancelled) call.end(trailer ?? undefined);
        },
        (err: unknown) => {
          failed(log, method, err, ctx);
          if (!call.cancelled) call.emit('error', toServiceError(err));
        },
      );
  };
}

/**
 * A bidirectional stream answering each message with one message, in order: `run` answers a
 * message (a problem of one message is its answer's business, e.g. an ack saying it was refused);
 * what `run` throws ends the stream with that status. The stream ends when the client ends its side.
 */
export function bidiStream<Req, Res>(log: Logger, method: string, run: (request: Req, ctx: CallContext) => Promise<Res>) {
  return (call: ServerDuplexStream<Req, Res>): void => {
    // A duplex call has every member contextOf reads (cancelled event, deadline, metadata, peer).
    const ctx = contextOf(call as unknown as ServerWritableStream<unknown, unknown>);
    let chain = Promise.resolve();
    let failedAlready = false;
    const fail = (err: unknown): void => {
      if (failedAlready) return;
      failedAlready = true;
      failed(log, method, err, ctx);
      if (!call.cancelled) call.emit('error', toServiceError(err));
    };
    call.on('data', (message: Req) => {
      chain = chain.then(async () => {
        if (failedAlready || call.cancelled) return;
        try {
          const answer = await run(await storable(message), ctx);
          if (!call.cancelled) call.write(answer);
        } catch (err) {
          fail(err);
        }
      });
    });
    call.on('end', () => {
      void chain.then(() => {
        if (!failedAlready && !call.cancelled) call.end();
      });
    });
  };
}
