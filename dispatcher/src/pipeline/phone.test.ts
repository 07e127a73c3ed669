import { describe, expect, it } from 'vitest';
import { ManualClock, type ReplyTarget } from '@oncall/shared';
import type { Delivery } from '../domain/plan.js';
import { phone, type PhoneBook } from './phone.js';
import { attempt, recordingNext, silent, smsDelivery } from './testing.js';

const PUBLIC = 'https://oncall.example.com/';
const voiceDelivery: Delivery = { channel: 'voice', address: '+15550199', idempotencyKey: 'n-1:voice', fallback: null };
const emailDelivery: Delivery = { channel: 'email', address: 'a@example.com', idempotencyKey: 'n-1:email', fallback: null };

/** A PhoneBook in memory: opted-out numbers and the allocations asked for. */
function book(optedOut: string[] = [], fail = false): PhoneBook & { asked: { to: string; target: ReplyTarget }[] } {
  const asked: { to: string; target: ReplyTarget }[] = [];
  return {
    asked,
    optedOut: async (n) => optedOut.includes(n),
    allocate: async (to, target) => {
      if (fail) throw new Error('KV down');
      asked.push({ to, target });
      return 7;
    },
  };
}

const clock = new ManualClock(1_000_000);

describe('phone stage', () => {
  it('fails an SMS to an opted-out number for good, with its fallback, and sends nothing', async () => {
    const next = recordingNext();
    const o = await phone(book(['+15550100']), clock, PUBLIC, silent)(attempt({ delivery: smsDelivery }), next);
    expect(o).toMatchObject({ kind: 'failed', reason: 'opted_out', fallback: true, error: { reason: 'opted_out', retryable: false } });
    expect(next.calls).toHaveLength(0);
  });

  it('still calls an opted-out number (STOP is about texts)', async () => {
    const next = recordingNext();
    await phone(book(['+15550199']), clock, PUBLIC, silent)(attempt({ delivery: voiceDelivery }), next);
    expect(next.calls).toHaveLength(1);
  });

  it('gives a page its reply code, the gather URL and the status callback URL', async () => {
    const b = book();
    const next = recordingNext();
    const a = attempt({ delivery: voiceDelivery });
    await phone(b, clock, PUBLIC, silent)(a, next);
    expect(b.asked).toStrictEqual([
      {
        to: '+15550199',
        target: {
          alertId: a.notification.alertId,
          serviceId: a.notification.serviceId,
          fingerprint: a.notification.alert.fingerprint,
          userId: 'u-1',
          summary: a.notification.alert.summary,
        },
      },
    ]);
    const reply = next.calls[0]?.phone;
    expect(reply?.code).toBe(7);
    expect(reply?.gatherUrl).toBe('https://oncall.example.com/api/v1/twilio/voice?code=7');
    const status = new URL(reply?.statusCallbackUrl ?? '');
    expect(status.pathname).toBe('/api/v1/twilio/status');
    expect(Object.fromEntries(status.searchParams)).toStrictEqual({
      n: a.notification.notificationId,
      a: a.notification.alertId,
      s: a.notification.serviceId,
      f: a.notification.alert.fingerprint,
      c: 'voice',
      d: '•••••0199',
    });
  });

  it.each([
    ['a resolution notice', attempt({ delivery: smsDelivery }, { kind: 'resolved' })],
    ['a bundle of pages', { ...attempt({ delivery: smsDelivery }), items: [attempt().notification, attempt().notification] }],
  ])('gives %s no reply code, but a status callback', async (_, a) => {
    const b = book();
    const next = recordingNext();
    await phone(b, clock, PUBLIC, silent)(a, next);
    expect(b.asked).toHaveLength(0);
    expect(next.calls[0]?.phone).toMatchObject({ code: null, gatherUrl: null, statusCallbackUrl: expect.any(String) as unknown });
  });

  it('without a public URL there is nothing to answer at: no code, no callbacks', async () => {
    const next = recordingNext();
    await phone(book(), clock, null, silent)(attempt({ delivery: smsDelivery }), next);
    expect(next.calls[0]?.phone).toStrictEqual({ code: null, gatherUrl: null, statusCallbackUrl: null });
  });

  it('pages without a code when the codes cannot be kept', async () => {
    const next = recordingNext();
    await phone(book([], true), clock, PUBLIC, silent)(attempt({ delivery: smsDelivery }), next);
    expect(next.calls[0]?.phone?.code).toBeNull();
  });

  it('leaves other channels alone', async () => {
    const next = recordingNext();
    await phone(book(), clock, PUBLIC, silent)(attempt({ delivery: emailDelivery }), next);
    expect(next.calls[0]?.phone).toBeNull();
  });
});
