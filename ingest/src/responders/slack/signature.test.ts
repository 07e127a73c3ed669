import { describe, expect, it } from 'vitest';
import { checkSlackSignature, slackSignature, type SignatureProblem } from './signature.js';

// Slack's documented example (api.slack.com/authentication/verifying-requests-from-slack).
const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const TS = '1531420618';
const SIG = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const NOW = Number(TS) * 1000;

describe('checkSlackSignature', () => {
  it("matches Slack's documented example", () => {
    expect(slackSignature(SECRET, TS, BODY)).toBe(SIG);
  });
  it.each<[string, { signature?: string; timestamp?: string }, string, number, SignatureProblem | null]>([
    ['a good signature', { signature: SIG, timestamp: TS }, BODY, NOW, null],
    ['4 min 59 s old', { signature: SIG, timestamp: TS }, BODY, NOW + 299_000, null],
    ['no signature', { timestamp: TS }, BODY, NOW, 'missing'],
    ['no timestamp', { signature: SIG }, BODY, NOW, 'missing'],
    ['an empty signature', { signature: '', timestamp: TS }, BODY, NOW, 'missing'],
    ['a v1 signature', { signature: SIG.replace('v0=', 'v1='), timestamp: TS }, BODY, NOW, 'malformed'],
    ['a timestamp in ms words', { signature: SIG, timestamp: 'yesterday' }, BODY, NOW, 'malformed'],
    ['6 minutes old', { signature: SIG, timestamp: TS }, BODY, NOW + 360_000, 'stale'],
    ['6 minutes in the future', { signature: SIG, timestamp: TS }, BODY, NOW - 360_000, 'stale'],
    ['a changed body', { signature: SIG, timestamp: TS }, BODY.replace('roadrunner', 'coyote'), NOW, 'mismatch'],
    ['a changed timestamp', { signature: SIG, timestamp: String(Number(TS) + 1) }, BODY, NOW, 'mismatch'],
    ['another secret', { signature: slackSignature('other', TS, BODY), timestamp: TS }, BODY, NOW, 'mismatch'],
    ['upper-case hex', { signature: SIG.toUpperCase().replace('V0=', 'v0='), timestamp: TS }, BODY, NOW, 'malformed'],
  ])('%s', (_name, headers, body, now, expected) => {
    expect(checkSlackSignature(SECRET, { signature: headers.signature, timestamp: headers.timestamp }, body, now)).toBe(expected);
  });
});
