import { describe, expect, it } from 'vitest';
import type { EventData } from '@oncall/contracts';
import { initialConfigState, ManualClock, templateVersionKey, verifyActionToken, type ConfigView } from '@oncall/shared';
import { notificationRequested } from '@oncall/shared/render/testing';
import type { SmsMessage } from '../notifiers/index.js';
import { render } from './render.js';
import { attempt, recordingNext, silent } from './testing.js';

const version: EventData<'TemplateVersionPublished'> = {
  templateId: 'page',
  version: 2,
  name: 'Page',
  description: '',
  createdBy: 'test',
  variables: { required: [], optional: [] },
  channels: {
    slack: null,
    teams: null,
    emailSubject: null,
    emailHtml: null,
    emailText: null,
    sms: 'PAGE {{ alert.summary }}',
    voice: null,
    webhook: null,
  },
};
const config: ConfigView = {
  state: () => ({ ...initialConfigState(), templateVersions: new Map([[templateVersionKey('page', 2), version]]) }),
  lastSeq: () => 0,
  subjectSeq: () => new Map(),
  stop: async () => undefined,
};
const sms = { channel: 'sms', address: '+15550100', idempotencyKey: 'n-1:sms', fallback: null } as const;
const text = async (...items: ReturnType<typeof notificationRequested>[]) => {
  const next = recordingNext();
  await render(config, new ManualClock(0), null, silent)({ ...attempt({ delivery: sms }), items }, next);
  return (next.calls[0]?.message as SmsMessage).body;
};

describe('render', () => {
  it('uses the template version the escalator recorded', async () => {
    expect(await text(notificationRequested({ templateId: 'page', templateVersion: 2 }))).toBe('PAGE Error rate above 5%');
  });

  it('an unknown version is sent with the built-in default', async () => {
    expect(await text(notificationRequested({ templateId: 'page', templateVersion: 9 }))).toContain('Error rate above 5%');
  });

  it('a bundle is rendered as one notification that counts them', async () => {
    const n = notificationRequested({ templateId: 'page', templateVersion: 2 });
    expect(await text(n, n, n)).toBe('PAGE 3 new alerts on Payments API');
  });

  it("adds the phone stage's reply code to the text (a template's too) and its status callback to the message", async () => {
    const next = recordingNext();
    const phone = { code: 4, gatherUrl: null, statusCallbackUrl: 'https://oncall.example.com/api/v1/twilio/status?n=1' };
    const n = notificationRequested({ templateId: 'page', templateVersion: 2 });
    await render(config, new ManualClock(0), null, silent)({ ...attempt({ delivery: sms, notification: n }), phone }, next);
    expect(next.calls[0]?.message).toStrictEqual({
      body: 'PAGE Error rate above 5%\nReply 4a to acknowledge, 4c to resolve, 4e to escalate.',
      statusCallback: phone.statusCallbackUrl,
    });
  });
});

describe('render: the action link', () => {
  const SECRET = 'dispatcher-test-secret-0123456789abcdef';
  const email = { channel: 'email', address: 'ada@example.com', idempotencyKey: 'n-1:email', fallback: null } as const;
  const rendered = async (publicUrl: string | null, secret: string | null, n = notificationRequested()) => {
    const next = recordingNext();
    await render(
      config,
      new ManualClock(1_770_000_000_000),
      publicUrl,
      silent,
      secret,
    )({ ...attempt({ delivery: email }), items: [n] }, next);
    return next.calls[0]?.message as { subject: string; html: string; text: string };
  };
  const linkIn = (text: string): string => /Acknowledge, resolve, escalate or snooze: (\S+)/.exec(text)?.[1] ?? '';

  it('signs a link for the paged user and this channel, valid for 7 days', async () => {
    const m = await rendered('https://oncall.example.com/', SECRET);
    const url = linkIn(m.text);
    expect(url).toMatch(/^https:\/\/oncall\.example\.com\/a\/[\w-]+\.[\w-]+$/);
    const v = verifyActionToken(url.split('/a/')[1] ?? '', [SECRET], 1_770_000_000_000);
    expect(v).toEqual({
      ok: true,
      link: {
        alertId: '0f0e5b8e-7a43-4d57-9d0e-8b7f6a1c2d3e',
        serviceId: 'payments',
        fingerprint: 'fp-1',
        userId: 'u-1',
        expiresAt: 1_770_000_000 + 7 * 86_400,
        via: 'email',
      },
    });
    expect(m.html).toContain(`<a href="${url}" style="`);
    expect(m.html).toContain('>Acknowledge</a>');
    expect(m.html).toContain('>Resolve</a>');
  });

  it('a Slack channel recipient gets a view-only link (no user)', async () => {
    const m = await rendered(
      'https://oncall.example.com',
      SECRET,
      notificationRequested({ recipient: { type: 'slack', channel: '#ops' } }),
    );
    const v = verifyActionToken(linkIn(m.text).split('/a/')[1] ?? '', [SECRET], 1_770_000_000_000);
    expect(v.ok && v.link.userId).toBeNull();
  });

  it.each([
    ['no public URL', null, SECRET],
    ['no secret', 'https://oncall.example.com', null],
  ])('%s: no action link', async (_name, publicUrl, secret) => {
    const m = await rendered(publicUrl, secret);
    expect(m.text).not.toContain('/a/');
    expect(m.html).not.toContain('>Acknowledge</a>');
  });
});
