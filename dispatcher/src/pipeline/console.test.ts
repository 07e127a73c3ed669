import { describe, expect, it } from 'vitest';
import { notificationRequested } from '@oncall/shared/render/testing';
import { consoleBlock, consoleChannel } from './console.js';
import { send } from './send.js';
import { ManualClock } from '@oncall/shared';
import { attempt, silent, smsDelivery } from './testing.js';

describe('console channel', () => {
  it('prints one readable block per page: who, the alert, the action link', () => {
    const block = consoleBlock(notificationRequested(), smsDelivery, 1, 'http://127.0.0.1:8080/a/p.s');
    expect(block).toMatchInlineSnapshot(`
      "┌────────────────────────────────────────────────────────────────────────
      │ PAGE (console channel: no sms provider is configured)
      │ to:      Ada Lovelace (u-1) by sms +15550100
      │ alert:   [CRITICAL] Payments API: Error rate above 5%
      │ status:  triggered, step 1 of 2 of Payments primary
      │ id:      0f0e5b8e-7a43-4d57-9d0e-8b7f6a1c2d3e
      │ act:     http://127.0.0.1:8080/a/p.s
      └────────────────────────────────────────────────────────────────────────
      "
    `);
  });

  it.each([
    ['a Slack channel', notificationRequested({ recipient: { type: 'slack', channel: '#ops' }, userName: null }), 'Slack channel #ops'],
    [
      'a summary with line breaks stays one line',
      notificationRequested({ alert: { ...notificationRequested().alert, summary: 'a\nb' } }),
      'a b',
    ],
  ])('%s', (_name, n, text) => {
    expect(consoleBlock(n, smsDelivery, 1, null)).toContain(text);
  });

  it('a webhook address (it often holds a secret) is not printed', () => {
    const hook = { channel: 'webhook', address: 'https://hooks.example.com/T0K3N', idempotencyKey: 'k', fallback: null } as const;
    expect(consoleBlock(notificationRequested({ recipient: { type: 'webhook', url: hook.address } }), hook, 1, null)).not.toContain(
      'T0K3N',
    );
  });

  it('the send stage prints a page for a channel without a notifier and records it sent; without the console it fails', async () => {
    const printed: string[] = [];
    const links = { publicUrl: 'http://127.0.0.1:8080', secret: 'x'.repeat(32) };
    const withConsole = send(
      {},
      new ManualClock(0),
      { retryBaseMs: 100 },
      consoleChannel({ links, log: silent, write: (t) => printed.push(t) }),
    );
    const a = { ...attempt({ delivery: smsDelivery }), message: { body: 'x' } };
    expect(await withConsole(a)).toEqual({ kind: 'sent', providerMessageId: 'console:n-1:sms', bundled: 1, recorded: false });
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/│ act: {5}http:\/\/127\.0\.0\.1:8080\/a\/[\w-]+\.[\w-]+\n/);
    expect(await send({}, new ManualClock(0), { retryBaseMs: 100 })(a)).toMatchObject({ kind: 'failed', reason: 'channel_not_configured' });
  });
});
