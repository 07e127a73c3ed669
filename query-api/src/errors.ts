import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { BinaryWriter } from '@bufbuild/protobuf/wire';

export type ApiErrorCode =
  'invalid_argument' | 'not_found' | 'already_exists' | 'failed_precondition' | 'unavailable' | 'deadline_exceeded';

/** A request query-api answers with an error status; `code` picks the status (toServiceError). */
export abstract class ApiError extends Error {
  abstract readonly code: ApiErrorCode;
}

export type FieldViolation = Readonly<{ field: string; description: string }>;

/**
 * A request field that is wrong, named so the caller can fix it; `more` are further wrong fields
 * of the same request (a configuration write reports all its problems at once).
 */
export class InvalidArgument extends ApiError {
  override readonly name = 'InvalidArgument';
  readonly code = 'invalid_argument';
  readonly violations: readonly FieldViolation[];
  constructor(
    readonly field: string,
    readonly description: string,
    more: readonly FieldViolation[] = [],
  ) {
    const violations = [{ field, description }, ...more];
    super(violations.map((v) => `${v.field}: ${v.description}`).join('; '));
    this.violations = violations;
  }
}

export class NotFound extends ApiError {
  override readonly name = 'NotFound';
  readonly code = 'not_found';
}

/** A create whose id is taken. */
export class AlreadyExists extends ApiError {
  override readonly name = 'AlreadyExists';
  readonly code = 'already_exists';
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
  already_exists: status.ALREADY_EXISTS,
  failed_precondition: status.FAILED_PRECONDITION,
  unavailable: status.UNAVAILABLE,
  deadline_exceeded: status.DEADLINE_EXCEEDED,
};

const BAD_REQUEST_TYPE = 'type.googleapis.com/google.rpc.BadRequest';

/**
 * `google.rpc.Status` with one `google.rpc.BadRequest` detail (one field violation per wrong
 * field), as the `grpc-status-details-bin` trailer carries it (richer error model). Encoded by
 * hand: four kinds of length-delimited messages.
 *   Status { int32 code = 1; string message = 2; repeated Any details = 3; }
 *   Any { string type_url = 1; bytes value = 2; }
 *   BadRequest { repeated FieldViolation field_violations = 1; }
 *   FieldViolation { string field = 1; string description = 2; }
 */
export function badRequestStatus(code: number, message: string, violations: readonly FieldViolation[]): Uint8Array {
  const badRequest = new BinaryWriter();
  for (const v of violations)
    badRequest.uint32(10).bytes(new BinaryWriter().uint32(10).string(v.field).uint32(18).string(v.description).finish());
  const any = new BinaryWriter().uint32(10).string(BAD_REQUEST_TYPE).uint32(18).bytes(badRequest.finish()).finish();
  return new BinaryWriter().uint32(8).int32(code).uint32(18).string(message).uint32(26).bytes(any).finish();
}

/** The one place that maps errors to gRPC status codes; anything not an ApiError is INTERNAL. */
export function toServiceError(err: unknown): Partial<ServiceError> {
  if (!(err instanceof ApiError)) return { code: status.INTERNAL, details: 'internal error' };
  const code = STATUS[err.code];
  if (err instanceof InvalidArgument) {
    const metadata = new Metadata();
    metadata.set('invalid-field', err.field);
    metadata.set('grpc-status-details-bin', Buffer.from(badRequestStatus(code, err.message, err.violations)));
    return { code, details: err.message, metadata };
  }
  return { code, details: err.message };
}
