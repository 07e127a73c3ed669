import { Metadata, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream } from '@grpc/grpc-js';
import type { Logger } from '@oncall/shared';
import { unstorablePaths } from '@oncall/contracts';
import { ApiError, InvalidArgument, toServiceError } from './errors.js';
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
  return { signal: controller.signal, deadline, via: via === undefined ? null : String(via), caller: callerOf(call.metadata) };
}

function failed(log: Logger, method: string, err: unknown, ctx: CallContext): void {
  // A call the client gave up on fails with whatever was waiting; nobody reads the answer.
  if (ctx.signal.aborted) log.debug({ err, method }, 'request cancelled by the client');
  else if (!(err instanceof ApiError)) log.error({ err, method }, 'request failed');
}

/**
 * Text PostgreSQL cannot store (NUL, lone surrogates: legal in protobuf strings) is refused with
 * the field named before a handler sees the request, as every other bad input is.
 */
async function storable<Req>(request: Req): Promise<Req> {
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

/** Writes one message, waiting for the stream to drain when its buffer is full. */
export type Write<Res> = (message: Res) => Promise<void>;

export type StreamContext = CallContext &
  Readonly<{
    /** Sends the response headers now (before the first message): tells the client the stream is set up. */
    sendHeaders: () => void;
  }>;

/**
 * A server-streaming handler from an async function that writes messages; the stream ends when
 * it returns. Nothing is written once the client has cancelled.
 */
export function serverStream<Req, Res>(
  log: Logger,
  method: string,
  run: (request: Req, write: Write<Res>, ctx: StreamContext) => Promise<void>,
) {
  return (call: ServerWritableStream<Req, Res>): void => {
    const ctx: StreamContext = { ...contextOf(call), sendHeaders: () => call.sendMetadata(new Metadata()) };
    const write: Write<Res> = async (message) => {
      if (call.cancelled) return;
      if (call.write(message)) return;
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
        () => {
          if (!call.cancelled) call.end();
        },
        (err: unknown) => {
          failed(log, method, err, ctx);
          if (!call.cancelled) call.emit('error', toServiceError(err));
        },
      );
  };
}
