import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  decodeEvent,
  encodeEvent,
  makeEvent,
  partitionOf,
  subjects,
  type AlertEvent,
  type DomainEvent,
  type EventData,
  type EventType,
  type TicketProvider,
} from '@oncall/contracts';
import { AlertCommandPath, StreamAppender } from '@oncall/shared';
import { startDecider } from '@oncall/ingest';
import { startTicketBridge, TICKET_BUCKET, type TicketBridge } from '@oncall/ticket-bridge';
import { IntakePublisher } from '../ingest/src/adapters/intake-publisher.js';
import { startJiraStandIn, type JiraStandIn } from '../ticket-bridge/src/providers/jira/stand-in.js';
import { startOpsgenieStandIn, type OpsgenieStandIn } from '../ticket-bridge/src/providers/opsgenie/stand-in.js';
import { startSalesforceStandIn, type SalesforceStandIn } from '../ticket-bridge/src/providers/salesforce/stand-in.js';
import { startServiceNowStandIn, type ServiceNowStandIn } from '../ticket-bridge/src/providers/servicenow/stand-in.js';
import { prepareTopology, startTestNats, testLog, type TestNats } from './harness.js';

/**
 * Each real provider through the real bridge (issue 18): a routed alert opens exactly one ticket
 * at the provider's stand-in with the mapped fields; an acknowledgement moves it; the echo of that
 * change comes back marked as an echo; a person closing the ticket resolves the alert, named in
 * the note, and nothing loops back to the ticket.
 */

const PARTITIONS = 4;
const SECRETS = {
  TP_JIRA_TOKEN: 'jira-api-token',
  TP_JIRA_HOOK: 'jira-webhook-secret',
  TP_SN_PASSWORD: 'sn-password',
  TP_SN_INBOUND: 'sn-inbound-secret',
  TP_OG_KEY: 'og-genie-key',
  TP_OG_INBOUND: 'og-inbound-token',
  TP_SF_SECRET: 'sf-client-secret',
};
Object.assign(process.env, SECRETS);

const sync = (ack: string, resolve: string): TicketProvider['sync'] => ({
  onAcknowledge: { transition: ack, comment: true },
  onResolve: { transition: resolve, comment: false },
  onReopen: { transition: null, comment: false },
  resolveAlertOn: ['resolved', 'closed'],
  mirrorComments: false,
  pollSeconds: null,
});

/** Ticket and alert events as they are appended, awaitable. */
function watch(nc: NatsConnection, subject: string) {
  const seen: DomainEvent[] = [];
  const waiters: Array<() => void> = [];
  const sub = nc.subscribe(subject, {
    callback: (err, m) => {
      if (err) return;
      seen.push(decodeEvent(m.data));
      for (const w of waiters.splice(0)) w();
    },
  });
  const of = <T extends EventType>(type: T, alertId: string) =>
    seen.filter((e): e is Extract<DomainEvent, { type: T }> => e.type === type && (e.data as { alertId?: string }).alertId === alertId);
  return {
    seen,
    of,
    until: async <T extends EventType>(type: T, alertId: string, test: (e: Extract<DomainEvent, { type: T }>) => boolean = () => true) => {
      for (;;) {
        const hit = of(type, alertId).find(test);
        if (hit) return hit;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    /** Resolves with the first event that passes `test`. */
    first: async (test: (e: DomainEvent) => boolean) => {
      for (;;) {
        const hit = seen.find(test);
        if (hit) return hit;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    stop: () => sub.unsubscribe(),
  };
}

describe('ticket bridge with each provider stand-in', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let appender: StreamAppender;
  let publisher: IntakePublisher;
  let decider: { stop: () => Promise<void> };
  let bridge: TicketBridge;
  let commands: AlertCommandPath;
  let tickets: ReturnType<typeof watch>;
  let alerts: ReturnType<typeof watch>;
  const stops: Array<() => Promise<void>> = [];

  const append = async (subject: string, type: EventType, data: unknown, id = randomUUID()) => {
    const event = makeEvent(type, data as EventData<typeof type>, {
      id,
      occurredAt: new Date().toISOString(),
      causationId: null,
      correlationId: id,
    });
    await appender.append(subject, encodeEvent(event), { msgID: id });
  };
  const configure = (config: TicketProvider) =>
    append(subjects.config('ticket-provider', config.providerId), 'TicketProviderConfigured', config);
  const inboundUrl = (providerId: string) => `${bridge.url}/api/v1/tickets/${providerId}/events`;

  /** A new alert through the decider. */
  const alertOnly = async (name: string) => {
    const fingerprint = `${name}-${randomUUID().slice(0, 8)}`;
    await publisher.append(
      {
        serviceId: 'checkout',
        source: 'generic',
        requestId: `req-${fingerprint}`,
        dedupe: true,
        context: {},
        signals: [
          {
            fingerprint,
            status: 'firing',
            summary: 'db-1 disk full',
            details: '95% used',
            severity: 'critical',
            labels: { team: 'storage' },
            annotations: {},
            startsAt: null,
            endsAt: null,
            generatorUrl: null,
            links: [],
            custom: {},
          },
        ],
      },
      new Date(),
    );
    const triggered = (await alerts.first(
      (e) => e.type === 'AlertTriggered' && (e.data as { fingerprint: string }).fingerprint === fingerprint,
    )) as AlertEvent;
    return { alertId: triggered.data.alertId, fingerprint, partition: partitionOf('checkout', fingerprint, PARTITIONS) };
  };

  /** A new alert routed by a rule that asks `providerId` for a ticket; resolves with the ticket created. */
  const routedAlert = async (providerId: string) => {
    const { alertId, fingerprint, partition } = await alertOnly(providerId);
    await append(subjects.escalation(partition, alertId), 'AlertRouted', {
      alertId,
      serviceId: 'checkout',
      alert: {
        alertId,
        serviceId: 'checkout',
        serviceName: 'Checkout',
        fingerprint,
        status: 'triggered',
        summary: 'db-1 disk full',
        details: '',
        severity: 'critical',
        labels: {},
        annotations: {},
        links: [],
        source: 'generic',
        triggeredAt: new Date().toISOString(),
      },
      rules: ['tickets'],
      policyId: null,
      templateId: null,
      templateVersion: null,
      severity: 'critical',
      ticket: providerId,
      ackTimeoutSeconds: null,
      suppressed: null,
      maintenance: [],
      alertSeq: 1,
    });
    const created = await tickets.until('TicketCreated', alertId);
    return { alertId, fingerprint, created: created.data };
  };

  /** Bob acknowledges in Slack; resolves once the ticket followed (TicketUpdated). */
  const acknowledge = async (a: { alertId: string; fingerprint: string }) => {
    await commands.submit(
      {
        target: { alertId: a.alertId, serviceId: 'checkout', fingerprint: a.fingerprint },
        command: 'acknowledge',
        userId: 'bob',
        via: 'slack',
      },
      AbortSignal.timeout(10_000),
    );
    return (await tickets.until('TicketUpdated', a.alertId)).data;
  };

  /** The alert resolved by the ticket; then: one TicketUpdated only (the acknowledgement), the resolve was not pushed back. */
  const resolvedByTicket = async (alertId: string, person: string) => {
    const resolved = await alerts.until('AlertResolved', alertId);
    expect(resolved.data).toMatchObject({ via: 'ticket', userId: null });
    expect((resolved.data as { note: string }).note).toContain(`by ${person}`);
    const changed = await tickets.until('TicketStatusChanged', alertId, (e) => !e.data.echo && e.data.actor === person);
    expect(changed.data.state).toMatch(/resolved|closed/);
    expect(tickets.of('TicketUpdated', alertId).map((e) => e.data.change)).toEqual(['acknowledged']);
  };

  beforeAll(async () => {
    nats = await startTestNats();
    nc = await nats.connect('test');
    await prepareTopology(nc, PARTITIONS);
    appender = new StreamAppender(nc);
    publisher = new IntakePublisher(appender, PARTITIONS);
    await append(subjects.config('service', 'checkout'), 'ServiceConfigured', {
      serviceId: 'checkout',
      name: 'Checkout',
      description: '',
      integrationKeys: [],
    });
    tickets = watch(nc, subjects.ticketsAll);
    alerts = watch(nc, subjects.alertsAll);
    commands = new AlertCommandPath(nc, { partitions: PARTITIONS });
    decider = await startDecider({ nc: await nats.connect('decider'), partitions: PARTITIONS, log: testLog });
    bridge = await startTicketBridge({
      nc: await nats.connect('bridge'),
      log: testLog,
      partitions: PARTITIONS,
      port: 0,
      owner: 'bridge-1',
      ackWaitMs: 2000,
      retry: { baseMs: 50, maxMs: 5000, maxAttempts: 5 },
    });
  });

  afterAll(async () => {
    tickets.stop();
    alerts.stop();
    await bridge.stop();
    for (const stop of stops) await stop();
    await decider.stop();
    await appender.close();
    await nats.stop();
  });

  it('Jira: one issue, moved by the acknowledgement, its echo recognised, closed by a person → alert resolved', async () => {
    const jira: JiraStandIn = await startJiraStandIn({
      auth: { kind: 'basic', username: 'bot@acme.io', password: SECRETS.TP_JIRA_TOKEN },
      // Jira posts its webhook for every change, the bridge's own included.
      webhook: { url: inboundUrl('jira'), secret: SECRETS.TP_JIRA_HOOK },
    });
    stops.push(() => jira.close());
    await configure({
      providerId: 'jira',
      type: 'jira',
      name: 'Jira',
      settings: {
        baseUrl: jira.url,
        apiVersion: '3',
        project: 'OPS',
        issueType: 'Incident',
        customFields: { service: 'customfield_10010' },
      },
      auth: { kind: 'basic', username: 'bot@acme.io', password: { env: 'TP_JIRA_TOKEN' } },
      fields: { summary: '"[" + service.name + "] " + alert.summary', service: 'service.name' },
      sync: sync('Start Progress', 'Done'),
      inboundSecret: { env: 'TP_JIRA_HOOK' },
    });
    const a = await routedAlert('jira');
    const issues = [...jira.issues.values()].filter((i) => i.fields.labels.includes(`oncall-${a.alertId}`));
    expect(issues.map((i) => i.key)).toEqual([a.created.ticketKey]);
    expect(issues[0]!.fields).toMatchObject({ summary: '[Checkout] db-1 disk full', customfield_10010: 'Checkout' });
    expect(await acknowledge(a)).toMatchObject({ change: 'acknowledged', state: 'in_progress' });
    expect(issues[0]!.fields.status.name).toBe('In Progress');
    const echo = await tickets.until('TicketStatusChanged', a.alertId, (e) => e.data.state === 'in_progress');
    expect(echo.data.echo).toBe(true);
    await jira.resolveIssue(a.created.ticketKey, { webhookUrl: inboundUrl('jira'), secret: SECRETS.TP_JIRA_HOOK, by: 'Carol Jones' });
    await resolvedByTicket(a.alertId, 'Carol Jones');

    // An issue made by hand and linked to another alert: closing it resolves that alert too.
    const res = await fetch(`${jira.url}/rest/api/3/issue`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`bot@acme.io:${SECRETS.TP_JIRA_TOKEN}`).toString('base64')}`,
      },
      body: JSON.stringify({ fields: { project: { key: 'OPS' }, issuetype: { name: 'Incident' }, summary: 'found by hand' } }),
    });
    expect(res.status).toBe(201);
    const { key } = (await res.json()) as { key: string };
    const b = await alertOnly('jira-linked');
    await append(subjects.ticket(b.partition, b.alertId), 'TicketLinked', {
      alertId: b.alertId,
      serviceId: 'checkout',
      providerId: 'jira',
      ticketKey: key,
      url: null,
      userId: 'dave',
      via: 'api',
    });
    // Jira may post before the link is indexed (404, it tries again): the stand-in's helper rejects then.
    for (;;) {
      const sent = await jira.resolveIssue(key, { webhookUrl: inboundUrl('jira'), secret: SECRETS.TP_JIRA_HOOK, by: 'Erin' }).then(
        () => true,
        () => false,
      );
      if (sent) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const resolved = await alerts.until('AlertResolved', b.alertId);
    expect((resolved.data as { note: string }).note).toContain('by Erin');
  });

  it('Jira at 20 requests/s with 60 tickets asked at once: every ticket made once, the 429s pause the lane and fail no ticket', async () => {
    const jira = await startJiraStandIn({
      auth: { kind: 'basic', username: 'bot@acme.io', password: SECRETS.TP_JIRA_TOKEN },
      rateLimitPerSecond: 20,
    });
    stops.push(() => jira.close());
    await configure({
      providerId: 'jira-limited',
      type: 'jira',
      name: 'Jira (rate limited)',
      settings: { baseUrl: jira.url, apiVersion: '3', project: 'OPS', issueType: 'Incident' },
      auth: { kind: 'basic', username: 'bot@acme.io', password: { env: 'TP_JIRA_TOKEN' } },
      fields: { summary: 'alert.summary' },
      sync: sync('Start Progress', 'Done'),
      inboundSecret: null,
    });
    const many = await Promise.all(Array.from({ length: 60 }, (_, i) => alertOnly(`storm-${i}`)));
    await Promise.all(
      many.map((a) =>
        append(subjects.ticket(a.partition, a.alertId), 'TicketRequested', {
          alertId: a.alertId,
          serviceId: 'checkout',
          providerId: 'jira-limited',
          requestedBy: 'api',
          userId: 'alice',
          requestId: randomUUID(),
        }),
      ),
    );
    const created = await Promise.all(many.map((a) => tickets.until('TicketCreated', a.alertId)));
    expect(jira.requests.some((r) => r.status === 429)).toBe(true);
    for (const [i, a] of many.entries()) {
      const issues = [...jira.issues.values()].filter((x) => x.fields.labels.includes(`oncall-${a.alertId}`));
      expect(issues.map((x) => x.key)).toEqual([created[i]!.data.ticketKey]);
      expect(tickets.of('TicketSyncFailed', a.alertId)).toEqual([]);
    }
  });

  it('ServiceNow: one incident, In Progress on acknowledgement, the Business Rule echo recognised, resolved by a person → alert resolved', async () => {
    const sn: ServiceNowStandIn = await startServiceNowStandIn({ username: 'oncall.integration', password: SECRETS.TP_SN_PASSWORD });
    stops.push(() => sn.close());
    await configure({
      providerId: 'snow',
      type: 'servicenow',
      name: 'ServiceNow',
      settings: { instanceUrl: sn.url, assignmentGroup: 'NOC', caller: 'oncall.integration' },
      auth: { kind: 'basic', username: 'oncall.integration', password: { env: 'TP_SN_PASSWORD' } },
      fields: { short_description: '"[" + service.name + "] " + alert.summary', urgency: '1', impact: '2' },
      sync: sync('In Progress', 'Resolved'),
      inboundSecret: { env: 'TP_SN_INBOUND' },
    });
    const a = await routedAlert('snow');
    const rows = [...sn.records.values()].filter((r) => r.correlation_id === `oncall-${a.alertId}`);
    expect(rows.map((r) => r.number)).toEqual([a.created.ticketKey]);
    expect(rows[0]).toMatchObject({ short_description: '[Checkout] db-1 disk full', urgency: '1', impact: '2', assignment_group: 'NOC' });
    await acknowledge(a);
    const row = sn.records.get(rows[0]!.sys_id)!;
    expect(row.state).toBe('2');
    const to = { url: inboundUrl('snow'), secret: SECRETS.TP_SN_INBOUND };
    // The Business Rule tells us about our own change (sys_updated_by: the integration user).
    expect(await sn.notify(row.sys_id, to)).toBe(200);
    const echo = await tickets.until('TicketStatusChanged', a.alertId, (e) => e.data.state === 'in_progress');
    expect(echo.data).toMatchObject({ echo: true, actor: 'oncall.integration' });
    expect(await sn.resolve(row.sys_id, 'carol', to)).toBe(200);
    await resolvedByTicket(a.alertId, 'carol');
    // The Business Rule posting the same record again (a retry) appends nothing.
    const changes = tickets.of('TicketStatusChanged', a.alertId).length;
    expect(await sn.notify(row.sys_id, to)).toBe(200);
    expect(await sn.notify(row.sys_id, to)).toBe(200);
    expect(tickets.of('TicketStatusChanged', a.alertId)).toHaveLength(changes);
  });

  it('Opsgenie: one alert by alias, acknowledged as the integration user, the webhook by alert id resolves the oncall alert', async () => {
    const og: OpsgenieStandIn = await startOpsgenieStandIn({ apiKey: SECRETS.TP_OG_KEY, processDelayMs: 5 });
    stops.push(() => og.close());
    await configure({
      providerId: 'opsgenie',
      type: 'opsgenie',
      name: 'Opsgenie',
      settings: { apiUrl: og.url, responders: [{ type: 'team', name: 'NOC' }], tags: ['oncall'], user: 'oncall-bridge' },
      auth: { kind: 'genie-key', key: { env: 'TP_OG_KEY' } },
      fields: { message: '"[" + service.name + "] " + alert.summary', priority: '"P1"' },
      sync: sync('acknowledge', 'close'),
      inboundSecret: { env: 'TP_OG_INBOUND' },
    });
    const a = await routedAlert('opsgenie');
    const made = [...og.alerts.values()].filter((x) => x.alias === `oncall-${a.alertId}`);
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({ message: '[Checkout] db-1 disk full', priority: 'P1' });
    expect(a.created.externalId).toBe(made[0]!.id);
    await acknowledge(a);
    expect(made[0]!.acknowledged).toBe(true);
    expect(made[0]!.log.find((l) => l.action === 'Acknowledge')?.user).toBe('oncall-bridge');
    // Opsgenie's outgoing webhook reports our acknowledgement (by the configured user); the ticket key is the Opsgenie alert id.
    const to = { url: inboundUrl('opsgenie'), token: SECRETS.TP_OG_INBOUND };
    expect(await og.act(made[0]!.alias, 'Acknowledge', 'oncall-bridge', to)).toBe(200);
    const echo = await tickets.until('TicketStatusChanged', a.alertId, (e) => e.data.state === 'in_progress');
    expect(echo.data.echo).toBe(true);
    expect(await og.act(made[0]!.alias, 'Close', 'carol@acme.io', to)).toBe(200);
    await resolvedByTicket(a.alertId, 'carol@acme.io');
  });

  it('Salesforce: one Case, Working on acknowledgement, the CDC echo recognised, closed by a person → alert resolved via Pub/Sub', async () => {
    const sf: SalesforceStandIn = await startSalesforceStandIn({ clientId: 'oncall-app', clientSecret: SECRETS.TP_SF_SECRET });
    stops.push(() => sf.close());
    await configure({
      providerId: 'salesforce',
      type: 'salesforce',
      name: 'Salesforce',
      settings: { apiVersion: '62.0', pubSub: { endpoint: sf.pubSubAddress, tls: false } },
      auth: { kind: 'oauth-client-credentials', tokenUrl: sf.tokenUrl, clientId: 'oncall-app', clientSecret: { env: 'TP_SF_SECRET' } },
      fields: { Subject: '"[" + service.name + "] " + alert.summary', Priority: '"High"' },
      sync: sync('Working', 'Closed'),
      inboundSecret: null,
    });
    // The bridge subscribes when it sees the configuration (new changes only): the stand-in has no event to await for it.
    while (sf.subscriberCount() === 0) await new Promise((r) => setTimeout(r, 20));
    const a = await routedAlert('salesforce');
    const cases = sf.cases.filter((c) => c.fields.AlertFingerprint__c === `oncall-${a.alertId}`);
    expect(cases.map((c) => c.CaseNumber)).toEqual([a.created.ticketKey]);
    expect(cases[0]!.fields).toMatchObject({ Subject: '[Checkout] db-1 disk full', Priority: 'High' });
    await acknowledge(a);
    expect(cases[0]!.Status).toBe('Working');
    // The change we made comes back as a CDC event (the Case Id, the integration user).
    const echo = await tickets.until('TicketStatusChanged', a.alertId, (e) => e.data.state === 'in_progress');
    expect(echo.data.echo).toBe(true);
    sf.closeCase(a.created.ticketKey, 'carol@acme.io');
    await resolvedByTicket(a.alertId, 'carol@acme.io');
    // Where the subscription resumes is kept (base64) once the batch is applied.
    const replay = await (await new Kvm(nc).open(TICKET_BUCKET)).get('replay.salesforce');
    expect(Buffer.from(replay!.string(), 'base64').length).toBeGreaterThan(0);
  });
});
