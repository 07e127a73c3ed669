import { describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { BinaryReader } from '@bufbuild/protobuf/wire';
import { FailedPrecondition, InvalidArgument, toServiceError } from './errors.js';

describe('toServiceError', () => {
  it('INVALID_ARGUMENT names the field in metadata and in a google.rpc.BadRequest detail', () => {
    const e = toServiceError(new InvalidArgument('user_id', 'is required'));
    expect(e).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'user_id: is required' });
    expect(e.metadata!.get('invalid-field')).toEqual(['user_id']);
    const [bin] = e.metadata!.get('grpc-status-details-bin');
    // Status { code = 1; message = 2; details = 3 (Any { type_url = 1; value = 2 }) }
    const st = new BinaryReader(bin as Buffer);
    expect(st.tag()).toEqual([1, 0]);
    expect(st.int32()).toBe(status.INVALID_ARGUMENT);
    expect(st.tag()[0]).toBe(2);
    expect(st.string()).toBe('user_id: is required');
    expect(st.tag()[0]).toBe(3);
    const any = new BinaryReader(st.bytes());
    any.tag();
    expect(any.string()).toBe('type.googleapis.com/google.rpc.BadRequest');
    any.tag();
    const badRequest = new BinaryReader(any.bytes());
    badRequest.tag();
    const violation = new BinaryReader(badRequest.bytes());
    violation.tag();
    expect(violation.string()).toBe('user_id');
    violation.tag();
    expect(violation.string()).toBe('is required');
  });

  it('maps the other API errors by code and hides anything else', () => {
    expect(toServiceError(new FailedPrecondition('alert x is resolved'))).toEqual({
      code: status.FAILED_PRECONDITION,
      details: 'alert x is resolved',
    });
    expect(toServiceError(new Error('password=hunter2'))).toEqual({ code: status.INTERNAL, details: 'internal error' });
  });
});
