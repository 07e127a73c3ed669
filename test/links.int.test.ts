import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream } from '@nats-io/jetstream';
import { encodeEvent, partitionOf, STREAMS, subjects } from '@oncall/contracts';
import { type alertingV1 } from '@oncall/contracts/grpc';
import { makeActionToken, type ActionLink } from '@oncall/shared';
import { amAlert, amPayload } from './fixtures.js';
import { streamLastSeq } from './harness.js';
import { escalation, eventFactory } from './projection-events.js';
import { startTestPipeline, type TestPipeline } from './pipeline.js';

const SECRET = 'links-test-secret-0123456789abcdef';
const OLD_SECRET = 'links-test-secret-previous-0123456789';

describe('action links /a/<token> against the in-process pipeline', () => {
  let p: TestPipeline;
  beforeAll(async () => {
    p = await startTestPipeline({ actionSecrets: [SECRET, OLD_SECRET] });
  });
  afterAll(async () => {
    await p?.stop();
  });

  async function openAlert(name: string): Promise<alertingV1.Alert> {
    const before = await streamLastSeq(p.admin, STREAMS.alerts);
    expect((await p.postAlertmanager(amPayload([amAlert(name, { annotations: { summary: `${name} <b>is</b> down` } })]))).status).toBe(202);
    await p.alertsApplied(before + 1);
    const [alert] = await p.listAlerts({ labelSelector: { alertname: name } });
    return alert!;
  }

  const linkFor = (a: alertingV1.Alert, over: Partial<ActionLink> = {}): ActionLink => ({
    alertId: a.id,
    serviceId: a.serviceId,
    fingerprint: a.fingerprint,
    userId: 'alice',
    expiresAt: Math.floor(Date.now() / 1000) + 3600,
    via: 'email',
    ...over,
  });
  const url = (link: ActionLink, secret = SECRET) => `${p.ingestUrl}/a/${makeActionToken(link, secret)}`;
  const press = (u: string, form: Record<string, string>) =>
    fetch(u, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
  const logEnds = async () => [await streamLastSeq(p.admin, STREAMS.intake), await streamLastSeq(p.admin, STREAMS.alerts)];

  it('GET shows the alert from the log, escaped, with buttons that POST and no outside assets', async () => {
    const a = await openAlert('LinkPage');
    const res = await fetch(url(linkFor(a)));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    expect(html).toContain('LinkPage &#60;b&#62;is&#60;/b&#62; down');
    expect(html).not.toContain('<b>is</b>');
    expect(html).toContain('<span class="status">triggered</span>');
    expect(html).toMatch(/<form method="post"><input type="hidden" name="command" value="acknowledge">/);
    for (const c of ['resolve', 'escalate', 'snooze']) expect(html).toContain(`value="${c}"`);
    expect(html).not.toMatch(/<(script|link|img)\b/);
    expect(html).toContain('Acting as <strong>alice</strong>');
  });

  it("GET shows the effective severity: the latest AlertRouted over the source's", async () => {
    const a = await openAlert('LinkSeverity');
    const before = await (await fetch(url(linkFor(a)))).text();
    expect(before).toContain('<h1 class="critical">');
    const routed = escalation(eventFactory(Date.now()), 'LinkSeverity', a.serviceId, a.id).routed({
      alertSeq: a.lastEventSequence,
      sourceSeverity: 'critical',
      severity: 'error',
      severityBoost: { from: 'critical', to: 'error', by: 'equipment:lab', boost: -1, severity: null },
      severityRule: null,
    });
    await jetstream(p.admin).publish(subjects.escalation(partitionOf(a.serviceId, a.fingerprint, p.partitions), a.id), encodeEvent(routed));
    expect(await (await fetch(url(linkFor(a)))).text()).toContain('<h1 class="error">');
  });

  it('POST runs the command as the link user with the link surface and says the answer', async () => {
    const a = await openAlert('LinkAck');
    const u = url(linkFor(a));
    const acked = await press(u, { command: 'acknowledge' });
    expect(acked.status).toBe(200);
    expect(await acked.text()).toContain('<p class="answer" role="status">Acknowledged</p>');
    const again = await (await press(u, { command: 'acknowledge' })).text();
    expect(again).toContain('Already acknowledged by alice (email); nothing changed');
    await p.alertsApplied(await streamLastSeq(p.admin, STREAMS.alerts));
    const alert = await p.getAlert(a.id);
    expect(alert.acknowledgedByUserId).toBe('alice');

    const bob = url(linkFor(a, { userId: 'bob', via: 'sms' }));
    expect(await (await press(bob, { command: 'resolve' })).text()).toContain('>Resolved</p>');
    const late = await (await press(u, { command: 'acknowledge' })).text();
    expect(late).toContain('Already resolved by bob (sms); nothing to do');
    // The page now says there is nothing left to do.
    const page = await (await fetch(u)).text();
    expect(page).toContain('This alert is resolved');
    expect(page).not.toContain('value="acknowledge"');
  });

  it('snooze takes one of the offered lengths', async () => {
    const a = await openAlert('LinkSnooze');
    const html = await (await press(url(linkFor(a)), { command: 'snooze', for: '1h' })).text();
    expect(html).toMatch(/Snoozed until \d{4}-\d\d-\d\dT/);
    expect(html).toContain('<span class="status">snoozed</span>');
  });

  it('a link signed with the previous secret still works (rotation)', async () => {
    const a = await openAlert('LinkRotation');
    expect((await fetch(url(linkFor(a), OLD_SECRET))).status).toBe(200);
  });

  it.each([
    [
      'forged (another secret)',
      (a: alertingV1.Alert) => url(linkFor(a), 'some-other-secret-0123456789abcdefgh'),
      403,
      'This link is not valid',
    ],
    ['tampered', (a: alertingV1.Alert) => `${url(linkFor(a))}x`, 403, 'This link is not valid'],
    ['truncated', (a: alertingV1.Alert) => url(linkFor(a)).slice(0, -10), 403, 'This link is not valid'],
    ['expired', (a: alertingV1.Alert) => url(linkFor(a, { expiresAt: Math.floor(Date.now() / 1000) - 1 })), 410, 'This link has expired'],
    ['sent to a channel (no user)', (a: alertingV1.Alert) => url(linkFor(a, { userId: null })), 403, 'This link cannot act'],
  ])('%s → refused, nothing appended', async (_name, make, status, title) => {
    const a = await openAlert(`LinkBad${status}${title.length}${_name.length}`);
    const u = make(a);
    const before = await logEnds();
    const res = await press(u, { command: 'acknowledge' });
    expect(res.status).toBe(status);
    expect(await res.text()).toContain(title);
    if (status !== 403 || title !== 'This link cannot act') expect((await fetch(u)).status).toBe(status);
    expect(await logEnds()).toEqual(before);
  });

  it.each([
    [{ command: 'delete' }, 'Unknown action'],
    [{}, 'Unknown action'],
    [{ command: 'snooze', for: '5y' }, 'Unknown snooze length'],
    [{ command: 'snooze' }, 'Unknown snooze length'],
    [{ command: 'acknowledge', note: 'x'.repeat(1001) }, 'Note too long'],
  ])('bad form #%# → 400, nothing appended', async (form, title) => {
    const a = await openAlert(`LinkForm${title.length}${JSON.stringify(form).length}`);
    const before = await logEnds();
    const res = await press(url(linkFor(a)), form);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain(title);
    expect(await logEnds()).toEqual(before);
  });

  it('a valid link to an alert the log does not have answers 404', async () => {
    const a = await openAlert('LinkMissing');
    const res = await fetch(url(linkFor(a, { alertId: '00000000-0000-4000-8000-000000000000' })));
    expect(res.status).toBe(404);
  });
});
