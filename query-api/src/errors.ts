import { status, type ServiceError } from '@grpc/grpc-js';
import { Metadata } from '@grpc/grpc-js';

/** A request field that is wrong, named so the caller can fix it. */
export class InvalidArgument extends Error {
  override readonly name = 'InvalidArgument';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

export class NotFound extends Error {
  override readonly name = 'NotFound';
}

/** The one place that maps errors to gRPC status codes. */
export function toServiceError(err: unknown): Partial<ServiceError> {
  if (err instanceof InvalidArgument) {
    const metadata = new Metadata();
    metadata.set('invalid-field', err.field);
    return { code: status.INVALID_ARGUMENT, details: err.message, metadata };
  }
  if (err instanceof NotFound) return { code: status.NOT_FOUND, details: err.message };
  return { code: status.INTERNAL, details: 'internal error' };
}
