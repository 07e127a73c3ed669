import { describe, expect, it } from 'vitest';
import { standardWebhookSignature, verifyStandardWebhook } from './webhook-signature.js';

const body = Buffer.from('{"a":1}');
const NOW = 1_800_000_000;
const sig = standardWebhookSignature('s3cret', 'msg_1', NOW, body);

describe('verifyStandardWebhook', () => {
  it.each([
    ['a matching signature', { id: 'msg_1', timestamp: String(NOW), signature: sig }, 's3cret', null],
    ['one of several signatures', { id: 'msg_1', timestamp: String(NOW), signature: `v1,bm9wZQ== ${sig}` }, 's3cret', null],
    ['another secret', { id: 'msg_1', timestamp: String(NOW), signature: sig }, 'other', 'bad-signature'],
    ['another id', { id: 'msg_2', timestamp: String(NOW), signature: sig }, 's3cret', 'bad-signature'],
    ['no signature header', { id: 'msg_1', timestamp: String(NOW), signature: undefined }, 's3cret', 'missing-headers'],
    ['a timestamp 6 minutes old', { id: 'msg_1', timestamp: String(NOW - 360), signature: sig }, 's3cret', 'stale-timestamp'],
  ] as const)('%s', (_, headers, secret, expected) => {
    expect(verifyStandardWebhook(secret, headers, body, NOW)).toBe(expected);
  });

  it('signs strings and bytes alike, and a whsec_ secret as base64', () => {
    expect(standardWebhookSignature('s3cret', 'msg_1', NOW, '{"a":1}')).toBe(sig);
    const b64 = `whsec_${Buffer.from('s3cret').toString('base64')}`;
    expect(standardWebhookSignature(b64, 'msg_1', NOW, body)).toBe(sig);
  });
});
