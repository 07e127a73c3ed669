import { describe, expect, it } from 'vitest';
import { InvalidArgument } from '../errors.js';
import { addressOf, channelOf, ownerOf } from './destinations.js';
import { adHocRequest, toAdHocNotification } from './notification-request.js';

const SLACK = 1;
const TEAMS = 2;
const EMAIL = 3;
const SMS = 4;
const VOICE = 5;
const PUSH = 6;
const WEBHOOK = 7;

function fieldOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (err instanceof InvalidArgument) return err.field;
    throw err;
  }
  throw new Error('expected InvalidArgument');
}

describe('destinations: channel and address', () => {
  it.each<[string, number, string]>([
    ['a Slack channel id', SLACK, 'C0123ABCD'],
    ['a Slack user id', SLACK, 'U0ALICE12'],
    ['a Teams chat id', TEAMS, '19:abc@thread.v2'],
    ['a Teams channel', TEAMS, 'team:T1/channel:19:c@thread.tacv2'],
    ['an e-mail address', EMAIL, 'noc+pages@example.co.uk'],
    ['an E.164 number for SMS', SMS, '+4915112345678'],
    ['an E.164 number for calls', VOICE, '+14155550100'],
    ['an https webhook', WEBHOOK, 'https://hooks.example.com/x?y=1'],
    ['an http webhook to localhost', WEBHOOK, 'http://localhost:8080/hook'],
    ['an http webhook to 127.0.0.1', WEBHOOK, 'http://127.0.0.1:9/hook'],
    ['an http webhook to [::1]', WEBHOOK, 'http://[::1]:9/hook'],
  ])('takes %s', (_, channel, address) => {
    expect(addressOf('a', channelOf('c', channel), address)).toBe(address);
  });

  it.each<[string, number, string, string]>([
    ['an unspecified channel', 0, 'x', 'c'],
    ['push (no sender)', PUSH, 'x', 'c'],
    ['an unknown channel number', 99, 'x', 'c'],
    ['an empty address', WEBHOOK, '', 'a'],
    ['a blank address', EMAIL, '  ', 'a'],
    ['a huge address', WEBHOOK, `https://example.com/${'x'.repeat(2048)}`, 'a'],
    ['a Slack #name', SLACK, '#noc', 'a'],
    ['a lower-case Slack id', SLACK, 'c0123abcd', 'a'],
    ['a Teams address with a slash', TEAMS, 'a/b', 'a'],
    ['a half Teams channel', TEAMS, 'team:T1', 'a'],
    ['an address without @', EMAIL, 'noc.example.com', 'a'],
    ['an address with a display name', EMAIL, 'NOC <noc@example.com>', 'a'],
    ['an address without a domain dot', EMAIL, 'noc@localhost', 'a'],
    ['a national phone number', SMS, '015112345678', 'a'],
    ['a phone number with spaces', VOICE, '+49 151 12345678', 'a'],
    ['a plain-http webhook elsewhere', WEBHOOK, 'http://example.com/hook', 'a'],
    ['a webhook that is no URL', WEBHOOK, 'example.com/hook', 'a'],
    ['an ftp URL', WEBHOOK, 'ftp://example.com/hook', 'a'],
    ['a webhook with credentials', WEBHOOK, 'https://u:p@example.com/hook', 'a'],
  ])('refuses %s', (_, channel, address, field) => {
    expect(fieldOf(() => addressOf('a', channelOf('c', channel), address))).toBe(field);
  });

  it.each([['noc'], ['alice@example.com'], ['team.ops-2']])('takes the owner %s', (owner) => {
    expect(ownerOf('u', owner)).toBe(owner);
  });

  it.each([[''], ['the noc'], ['noc.*'], ['a>'], ['x'.repeat(129)], ['-noc']])('refuses the owner %j', (owner) => {
    expect(fieldOf(() => ownerOf('u', owner))).toBe('u');
  });
});

const base = {
  requestId: '',
  templateId: '',
  templateVersion: 0,
  renderContext: { alert: { summary: 'NOC: maintenance at 22:00' } } as Record<string, unknown>,
  destinations: [{ userId: 'noc', channel: WEBHOOK, channelAddress: 'https://hooks.example.com/noc' }],
  priority: 0,
};

describe('toAdHocNotification', () => {
  it('takes a minimal request: normal priority, the default template, info severity', () => {
    expect(toAdHocNotification(base)).toStrictEqual({
      requestId: null,
      templateId: null,
      templateVersion: 0,
      priority: 'normal',
      content: {
        summary: 'NOC: maintenance at 22:00',
        details: '',
        severity: 'info',
        serviceId: '',
        serviceName: '',
        labels: {},
        annotations: {},
        userName: null,
      },
      destinations: [{ field: 'destinations[0]', ownerId: 'noc', channel: 'webhook', address: 'https://hooks.example.com/noc' }],
    });
  });

  it('a destination without an address is the one registered for its owner and channel', () => {
    const n = toAdHocNotification({ ...base, destinations: [{ userId: 'noc', channel: SLACK, channelAddress: '' }] });
    expect(n.destinations).toStrictEqual([{ field: 'destinations[0]', ownerId: 'noc', channel: 'slack', address: null }]);
  });

  it.each<[string, Partial<typeof base>, string]>([
    ['no destinations', { destinations: [] }, 'destinations'],
    ['seven destinations', { destinations: Array.from({ length: 7 }, () => base.destinations[0]!) }, 'destinations'],
    ['two destinations on one channel', { destinations: [base.destinations[0]!, base.destinations[0]!] }, 'destinations[1].channel'],
    [
      'a bad second address',
      { destinations: [base.destinations[0]!, { userId: '', channel: SMS, channelAddress: '1' }] },
      'destinations[1].channel_address',
    ],
    ['no address and no owner', { destinations: [{ userId: '', channel: SLACK, channelAddress: '' }] }, 'destinations[0].user_id'],
    ['a bad owner', { destinations: [{ userId: 'a b', channel: SLACK, channelAddress: 'C0123ABCD' }] }, 'destinations[0].user_id'],
    ['an unknown priority', { priority: 5 }, 'priority'],
    ['a negative template version', { templateId: 't', templateVersion: -1 }, 'template_version'],
    ['a version without a template', { templateVersion: 2 }, 'template_version'],
    ['a huge template id', { templateId: 't'.repeat(129) }, 'template_id'],
    ['a huge request id', { requestId: 'r'.repeat(257) }, 'request_id'],
    ['no render context', { renderContext: undefined }, 'render_context.alert.summary'],
    ['an unknown render-context key', { renderContext: { alert: { summary: 'x' }, escalation: {} } }, 'render_context.escalation'],
    ['an unknown alert key', { renderContext: { alert: { summary: 'x', id: 'y' } } }, 'render_context.alert.id'],
    ['an alert that is a list', { renderContext: { alert: ['x'] } }, 'render_context.alert'],
    ['a blank summary', { renderContext: { alert: { summary: '  ' } } }, 'render_context.alert.summary'],
    ['a numeric summary', { renderContext: { alert: { summary: 42 } } }, 'render_context.alert.summary'],
    ['a huge summary', { renderContext: { alert: { summary: 's'.repeat(1025) } } }, 'render_context.alert.summary'],
    ['an unknown severity', { renderContext: { alert: { summary: 'x', severity: 'bad' } } }, 'render_context.alert.severity'],
    ['a label that is not a string', { renderContext: { alert: { summary: 'x' }, labels: { site: 1 } } }, 'render_context.labels.site'],
    ['labels that are a string', { renderContext: { alert: { summary: 'x' }, labels: 'site=fra1' } }, 'render_context.labels'],
    [
      'a user with more than a name',
      { renderContext: { alert: { summary: 'x' }, user: { name: 'a', phone: '1' } } },
      'render_context.user.phone',
    ],
  ])('refuses %s, naming %s', (_, over, field) => {
    expect(fieldOf(() => toAdHocNotification({ ...base, ...over }))).toBe(field);
  });

  it('builds the NotificationRequested: its own alert id (the notification), the destinations as contact methods', () => {
    const n = toAdHocNotification({
      ...base,
      priority: 4,
      renderContext: {
        alert: { summary: 'x', severity: 'critical', service_id: 'checkout' },
        labels: { site: 'fra1' },
        user: { name: 'NOC' },
      },
    });
    const id = '0b7f3c1e-1d2a-4c3b-9e8f-7a6b5c4d3e2f';
    const data = adHocRequest(n, {
      notificationId: id,
      contacts: [{ channel: 'webhook', address: 'https://hooks.example.com/noc' }],
      recipientId: 'noc',
      templateVersion: null,
      now: '2026-01-01T00:00:00.000Z',
    });
    expect(data).toMatchObject({
      alertId: id,
      notificationId: id,
      serviceId: 'checkout',
      priority: 'critical',
      recipient: { type: 'user', userId: 'noc', via: 'api' },
      contacts: [{ channel: 'webhook', address: 'https://hooks.example.com/noc' }],
      userName: 'NOC',
      alert: { alertId: id, severity: 'critical', labels: { site: 'fra1' }, source: 'api' },
    });
  });
});
