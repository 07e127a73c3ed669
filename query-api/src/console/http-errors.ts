import type { ZodError, ZodTypeAny, z } from 'zod';
import { ApiError, InvalidArgument } from '../errors.js';

/** An answer other than 2xx: the status and the body every error has (ConsoleError), plus extras (ActionResult's fields). */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
    readonly extra: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    return { ...this.extra, error: this.message, ...(this.field !== undefined && { field: this.field }) };
  }
}

/** The first problem of a zod error as a field and a message (unknown keys named by the key). */
export function firstIssue(err: ZodError): { field: string; message: string } {
  const issue = err.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    return { field: [...issue.path, key].join('.'), message: 'is not a known field' };
  }
  return { field: issue.path.join('.') || '(body)', message: issue.message };
}

/** A request part checked by its schema; 400 naming the first wrong field. */
export function parsed<T extends ZodTypeAny>(schema: T, value: unknown): z.infer<T> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data as z.infer<T>;
  const { field, message } = firstIssue(result.error);
  throw new HttpError(400, `${field}: ${message}`, field);
}

/** gRPC-side API errors (AlertCommands, schedule writes) as HTTP: the one mapping for the console. */
const STATUS_OF: Record<ApiError['code'], number> = {
  invalid_argument: 400,
  not_found: 404,
  already_exists: 409,
  failed_precondition: 409,
  unavailable: 503,
  deadline_exceeded: 504,
};

/** Fastify's own errors (body parsing) by code. */
const FASTIFY: Record<string, { status: number; message: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, message: 'body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, message: 'body is empty; send a JSON object' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, message: 'body too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, message: 'send Content-Type: application/json' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, message: 'Content-Length does not match the body' },
};

/**
 * Any error as an HttpError; `fields` renames fields of gRPC-side errors (`start_time` → `start`).
 * Anything unknown is a 500 whose details stay in the log.
 */
export function toHttpError(err: unknown, fields: Readonly<Record<string, string>> = {}): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof InvalidArgument) {
    const field = fields[err.field] ?? err.field;
    return new HttpError(400, `${field}: ${err.description}`, field);
  }
  if (err instanceof ApiError) return new HttpError(STATUS_OF[err.code], err.message);
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    const known = FASTIFY[code] ?? (code === 'FST_ERR_CTP_INVALID_JSON' ? FASTIFY.FST_ERR_CTP_INVALID_JSON_BODY : undefined);
    if (known) return new HttpError(known.status, known.message);
  }
  const statusCode = (err as { statusCode?: unknown } | null)?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) return new HttpError(statusCode, (err as Error).message);
  return new HttpError(500, 'internal error');
}
