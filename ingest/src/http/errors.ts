import type { ZodError } from 'zod';

/** Every error answer has this body, so senders and humans can tell what went wrong. */
export type ErrorBody = { error: { code: string; message: string; field?: string } };

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.field === undefined ? {} : { field: this.field }) } };
  }
}

/** A 400 naming the first bad field, e.g. `alerts.3.labels.severity: Expected string, received number`. */
export function invalidPayload(err: ZodError): HttpError {
  const issue = err.issues[0];
  const field = issue?.path.join('.') ?? '';
  const message = issue ? `${field || '(body)'}: ${issue.message}` : 'invalid payload';
  const more = err.issues.length > 1 ? ` (and ${err.issues.length - 1} more problem${err.issues.length > 2 ? 's' : ''})` : '';
  return new HttpError(400, 'invalid_payload', message + more, field);
}
