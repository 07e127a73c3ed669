import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { BinaryWriter } from '@bufbuild/protobuf/wire';

export type ApiErrorCode = 'invalid_argument' | 'not_found' | 'failed_precondition' | 'unavailable' | 'deadline_exceeded';

/** A request query-api answers with an error status; `code` picks the status (toServiceError). */
export abstract class ApiError extends Error {
  abstract readonly code: ApiErrorCode;
}

/** A request field that is wrong, named so the caller can fix it. */
export class InvalidArgument extends ApiError {
  override readonly name = 'InvalidArgument';
  readonly code = 'invalid_argument';
  constructor(
    readonly field: string,
    readonly description: string,
  ) {
    super(`${field}: ${description}`);
  }
}

export class NotFound extends ApiError {
  override readonly name = 'NotFound';
  readonly code = 'not_found';
}

/** The request is valid but the state does not allow it (a command on a resolved alert). */
export class FailedPrecondition extends ApiError {
  override readonly name = 'FailedPrecondition';
  readonly code = 'failed_precondition';
}

/** A dependency this request needs is missing or unreachable (NATS not configured, the stream down). */
export class Unavailable extends ApiError {
  override readonly name = 'Unavailable';
  readonly code = 'unavailable';
}

/** The work was started but its outcome was not visible in time; it may still complete. */
export class DeadlineExceeded extends ApiError {
  override readonly name = 'DeadlineExceeded';
  readonly code = 'deadline_exceeded';
}

const STATUS: Record<ApiErrorCode, status> = {
  invalid_argument: status.INVALID_ARGUMENT,
  not_found: status.NOT_FOUND,
  failed_precondition: status.FAILED_PRECONDITION,
  unavailable: status.UNAVAILABLE,
  deadline_exceeded: status.DEADLINE_EXCEEDED,
};

const BAD_REQUEST_TYPE = 'type.googleapis.com/google.rpc.BadRequest';

/**
 * `google.rpc.Status` with one `google.rpc.BadRequest` detail, as the `grpc-status-details-bin`
 * trailer carries it (richer error model). Encoded by hand: four length-delimited messages.
 *   Status { int32 code = 1; string message = 2; repeated Any details = 3; }
 *   Any { string type_url = 1; bytes value = 2; }
 *   BadRequest { repeated FieldViolation field_violations = 1; }
 *   FieldViolation { string field = 1; string description = 2; }
 */
export function badRequestStatus(code: number, message: string, field: string, description: string): Uint8Array {
  const violation = new BinaryWriter().uint32(10).string(field).uint32(18).string(description).finish();
  const badRequest = new BinaryWriter().uint32(10).bytes(violation).finish();
  const any = new BinaryWriter().uint32(10).string(BAD_REQUEST_TYPE).uint32(18).bytes(badRequest).finish();
  return new BinaryWriter().uint32(8).int32(code).uint32(18).string(message).uint32(26).bytes(any).finish();
}

/** The one place that maps errors to gRPC status codes; anything not an ApiError is INTERNAL. */
export function toServiceError(err: unknown): Partial<ServiceError> {
  if (!(err instanceof ApiError)) return { code: status.INTERNAL, details: 'internal error' };
  const code = STATUS[err.code];
  if (err instanceof InvalidArgument) {
    const metadata = new Metadata();
    metadata.set('invalid-field', err.field);
    metadata.set('grpc-status-details-bin', Buffer.from(badRequestStatus(code, err.message, err.field, err.description)));
    return { code, details: err.message, metadata };
  }
  return { code, details: err.message };
}
