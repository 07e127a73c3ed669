import { describe, expect, it } from 'vitest';
import { messageIdFor, parseSmtpUrl, smtpReplyAsHttpStatus } from './email.js';
import { classifyHttpStatus } from './errors.js';
import { teamsMessagePath } from './teams.js';
import { rewriteTwilioUrl } from './twilio.js';
import { standardWebhookSignature } from './webhook.js';

describe('teamsMessagePath', () => {
  it.each([
    ['19:abc123@thread.v2', '/chats/19:abc123@thread.v2/messages'],
    [
      '19:8b081ef6-4792-4def-b2c9-c363a1bf41d5_5031bb31@unq.gbl.spaces',
      '/chats/19:8b081ef6-4792-4def-b2c9-c363a1bf41d5_5031bb31@unq.gbl.spaces/messages',
    ],
    [
      'team:fbe2bf47-16c8-47cf-b4a5-4b9b187c508b/channel:19:4a95f7d8@thread.tacv2',
      '/teams/fbe2bf47-16c8-47cf-b4a5-4b9b187c508b/channels/19:4a95f7d8@thread.tacv2/messages',
    ],
    ['team:abc', null],
    ['team:a/channel:b/extra', null],
    ['19:abc/../../users', null],
    ['19:abc?x=1', null],
    ['', null],
  ])('%j → %j', (destination, expected) => {
    expect(teamsMessagePath(destination)).toBe(expected);
  });
});

describe('rewriteTwilioUrl', () => {
  it.each([
    ['https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json', 'http://127.0.0.1:9/2010-04-01/Accounts/AC1/Messages.json'],
    ['https://api.sydney.au1.twilio.com/2010-04-01/Accounts/AC1/Calls.json', 'http://127.0.0.1:9/2010-04-01/Accounts/AC1/Calls.json'],
    ['https://messaging.twilio.com:443/v1/Services?PageSize=5', 'http://127.0.0.1:9/v1/Services?PageSize=5'],
    ['https://example.com/twilio.com/x', 'https://example.com/twilio.com/x'],
    ['https://api.twilio.com.evil.example/x', 'https://api.twilio.com.evil.example/x'],
  ])('%s', (uri, expected) => {
    expect(rewriteTwilioUrl(uri, 'http://127.0.0.1:9/')).toBe(expected);
  });
});

describe('SMTP replies through the shared classifier', () => {
  it.each([
    [421, 'provider_unavailable', true],
    [450, 'provider_unavailable', true],
    [451, 'provider_unavailable', true],
    [452, 'provider_unavailable', true],
    [503, 'provider_unavailable', true],
    [535, 'unauthorized', false],
    [530, 'unauthorized', false],
    [550, 'invalid_destination', false],
    [551, 'invalid_destination', false],
    [553, 'invalid_destination', false],
    [552, 'bad_request', false],
    [554, 'bad_request', false],
  ])('%i → %s (retryable %s)', (code, reason, retryable) => {
    expect(classifyHttpStatus(smtpReplyAsHttpStatus(code))).toMatchObject({ reason, retryable });
  });
});

describe('messageIdFor', () => {
  it('uses a msg-id-safe key as is, with the sender domain', () => {
    expect(messageIdFor('notif-1.page-0', 'On-call <oncall@alerts.example.com>')).toBe('<notif-1.page-0@alerts.example.com>');
    expect(messageIdFor('k1', 'oncall@example.org')).toBe('<k1@example.org>');
  });
  it('hashes keys that are not valid msg-id text', () => {
    const id = messageIdFor('alert 1:<page>', 'oncall@example.org');
    expect(id).toMatch(/^<[0-9a-f]{40}@example\.org>$/);
    expect(messageIdFor('alert 1:<page>', 'oncall@example.org')).toBe(id);
    expect(messageIdFor('.leading-dot', 'oncall@example.org')).toMatch(/^<[0-9a-f]{40}@/);
  });
});

describe('parseSmtpUrl', () => {
  it.each([
    ['smtp://mail.example.com', { host: 'mail.example.com', port: 587, secure: false }],
    ['smtps://mail.example.com', { host: 'mail.example.com', port: 465, secure: true }],
    [
      'smtp://alerts%40example.com:p%40ss@127.0.0.1:2525',
      { host: '127.0.0.1', port: 2525, secure: false, auth: { user: 'alerts@example.com', pass: 'p@ss' } },
    ],
  ])('%s', (url, expected) => {
    expect(parseSmtpUrl(url)).toEqual(expected);
  });
  it('rejects other schemes', () => {
    expect(() => parseSmtpUrl('http://mail.example.com')).toThrow(/smtp:\/\//);
  });
});

describe('standardWebhookSignature', () => {
  it('matches the Standard Webhooks test vector', () => {
    expect(
      standardWebhookSignature(
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        'msg_p5jXN8AQM9LWM0D4loKWxJek',
        1614265330,
        '{"test": 2432232314}',
      ),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });
});
