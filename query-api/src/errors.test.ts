import { describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { BinaryReader } from '@bufbuild/protobuf/wire';
import { AlreadyExists, FailedPrecondition, InvalidArgument, toServiceError } from './errors.js';

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

  it('carries every wrong field of a request as its own field violation', () => {
    const e = toServiceError(
      new InvalidArgument('steps', 'list at least one step', [{ field: 'repeat_count', description: 'at most 20' }]),
    );
    expect(e.details).toBe('steps: list at least one step; repeat_count: at most 20');
    const [bin] = e.metadata!.get('grpc-status-details-bin');
    const st = new BinaryReader(bin as Buffer);
    st.tag();
    st.int32();
    st.tag();
    st.string();
    st.tag();
    const any = new BinaryReader(st.bytes());
    any.tag();
    any.string();
    any.tag();
    const badRequest = new BinaryReader(any.bytes());
    const fields: string[] = [];
    while (badRequest.pos < badRequest.len) {
      expect(badRequest.tag()[0]).toBe(1);
      const violation = new BinaryReader(badRequest.bytes());
      violation.tag();
      fields.push(violation.string());
    }
    expect(fields).toEqual(['steps', 'repeat_count']);
  });

  it('maps the other API errors by code and hides anything else', () => {
    expect(toServiceError(new AlreadyExists('escalation policy noc exists'))).toEqual({
      code: status.ALREADY_EXISTS,
      details: 'escalation policy noc exists',
    });
    expect(toServiceError(new FailedPrecondition('alert x is resolved'))).toEqual({
      code: status.FAILED_PRECONDITION,
      details: 'alert x is resolved',
    });
    expect(toServiceError(new Error('password=hunter2'))).toEqual({ code: status.INTERNAL, details: 'internal error' });
  });
});
