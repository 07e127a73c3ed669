import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InboundRejected, type InboundRequest } from '../types.js';
import { parseWebhook, verifyWebhook } from './webhook.js';

const SECRET = 'whsec-1';
const ALERT_ID = '3f1c9d2e-8a4b-4c1d-9e2f-0a1b2c3d4e5f';

function request(body: string, headers: Record<string, string> = {}, query = ''): InboundRequest {
  return { method: 'POST', path: '/api/v1/tickets/jira/events', headers, query: new URLSearchParams(query), body: Buffer.from(body) };
}
function thrown(fn: () => unknown): InboundRejected {
  try {
    fn();
  } catch (err) {
    if (err instanceof InboundRejected) return err;
    throw err;
  }
  throw new Error('expected InboundRejected, nothing was thrown');
}
const sign = (body: string, secret = SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

const issue = (status: { name: string; key: string }, labels = ['oncall', `oncall-${ALERT_ID}`]) => ({
  id: '10001',
  key: 'OPS-1',
  fields: { status: { name: status.name, statusCategory: { key: status.key } }, labels },
});
const DONE = { name: 'Done', key: 'done' };
const updated = {
  timestamp: 1765000000000,
  webhookEvent: 'jira:issue_updated',
  user: { accountId: 'acc-1', displayName: 'Ada Lovelace', emailAddress: 'ada@acme.io' },
  issue: issue(DONE),
  changelog: { id: '20001', items: [{ field: 'status', fromString: 'In Progress', toString: 'Done' }] },
};

describe('verifying a Jira webhook', () => {
  const body = JSON.stringify(updated);
  it.each([
    ['X-Hub-Signature over the raw body', request(body, { 'x-hub-signature': sign(body) }), null],
    ['?secret= (Server / Data Center)', request(body, {}, `secret=${SECRET}`), null],
    ['a signature made with another secret', request(body, { 'x-hub-signature': sign(body, 'other') }), 'does not match'],
    ['a signature of another body', request(`${body} `, { 'x-hub-signature': sign(body) }), 'does not match'],
    ['a malformed signature header', request(body, { 'x-hub-signature': 'sha1=abc' }), 'does not match'],
    [
      'a bad signature is not rescued by a right ?secret=',
      request(body, { 'x-hub-signature': sign(body, 'x') }, `secret=${SECRET}`),
      'does not match',
    ],
    ['a wrong ?secret=', request(body, {}, 'secret=whsec-2'), 'does not match'],
    ['nothing', request(body), 'unsigned'],
  ])('%s', (_name, req, error) => {
    if (error === null) expect(() => verifyWebhook(req, SECRET)).not.toThrow();
    else {
      const err = thrown(() => verifyWebhook(req, SECRET));
      expect(err).toMatchObject({ name: 'InboundRejected', httpStatus: 401 });
      expect(err.message).toContain(error);
    }
  });
});

describe('parsing a Jira webhook', () => {
  const parse = (payload: unknown, map = {}) => parseWebhook(Buffer.from(JSON.stringify(payload)), map);

  it('a status change: state by category, actor by display name, alert id from the label, change id from timestamp, issue and changelog', () => {
    expect(parse(updated)).toEqual([
      {
        ticketKey: 'OPS-1',
        alertId: ALERT_ID,
        status: 'Done',
        state: 'resolved',
        actor: 'Ada Lovelace',
        comment: null,
        changeId: '1765000000000:10001:20001',
      },
    ]);
  });

  it.each([
    ['status map by name', { ...updated }, { Done: 'closed' }, { state: 'closed' }],
    [
      'actor falls back to e-mail, then account id',
      { ...updated, user: { accountId: 'acc-1', emailAddress: 'ada@acme.io' } },
      {},
      { actor: 'ada@acme.io' },
    ],
    ['account id alone', { ...updated, user: { accountId: 'acc-1' } }, {}, { actor: 'acc-1' }],
    ['no user', { ...updated, user: undefined }, {}, { actor: null }],
    ['no oncall label', { ...updated, issue: issue(DONE, ['other']) }, {}, { alertId: null }],
    ['Server event name', { ...updated, webhookEvent: 'issue_updated' }, {}, { state: 'resolved' }],
    [
      'numeric ids (some Server versions)',
      { ...updated, issue: { ...issue(DONE), id: 10001 }, changelog: { ...updated.changelog, id: 20001 } },
      {},
      { changeId: '1765000000000:10001:20001' },
    ],
  ] as const)('%s', (_name, payload, map, expected) => {
    expect(parse(payload, map)[0]).toMatchObject(expected);
  });

  it('a comment (comment_created, ADF body) and the same comment with a transition: one change id per comment', () => {
    const comment = {
      id: '30001',
      body: { version: 1, type: 'doc', content: [{ type: 'paragraph', content: [{ type: 'text', text: 'fixed' }] }] },
      author: { displayName: 'Bob' },
    };
    const created = parse({
      timestamp: 1,
      webhookEvent: 'comment_created',
      comment,
      issue: issue({ name: 'In Progress', key: 'indeterminate' }),
    });
    expect(created).toEqual([
      {
        ticketKey: 'OPS-1',
        alertId: ALERT_ID,
        status: 'In Progress',
        state: 'in_progress',
        actor: 'Bob',
        comment: 'fixed',
        changeId: '10001:comment:30001',
      },
    ]);
    const both = parse({ ...updated, comment: { ...comment, body: 'fixed' } });
    expect(both.map((c) => [c.changeId, c.comment])).toEqual([
      ['1765000000000:10001:20001', null],
      ['10001:comment:30001', 'fixed'],
    ]);
  });

  it.each([
    ['an update of another field', { ...updated, changelog: { id: '2', items: [{ field: 'summary' }] } }],
    ['an issue created', { ...updated, webhookEvent: 'jira:issue_created', changelog: undefined }],
  ])('nothing to report: %s', (_name, payload) => {
    expect(parse(payload)).toEqual([]);
  });

  it.each([
    ['not JSON', Buffer.from('{'), 'not JSON'],
    ['no issue', Buffer.from(JSON.stringify({ timestamp: 1, webhookEvent: 'jira:issue_updated' })), 'issue'],
    ['no status', Buffer.from(JSON.stringify({ ...updated, issue: { id: '1', key: 'OPS-1', fields: {} } })), 'carries no issue status'],
  ])('refused with 400: %s', (_name, body, message) => {
    const err = thrown(() => parseWebhook(body, {}));
    expect(err.httpStatus).toBe(400);
    expect(err.message).toContain(message);
  });
});
