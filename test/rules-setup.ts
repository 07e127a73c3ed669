import { jetstream } from '@nats-io/jetstream';
import { buildEvent, encodeEvent, partitionOf, stableUuid, subjects, type DomainEvent, type EventOf } from '@oncall/contracts';
import { expect } from 'vitest';
import type { TestPipeline } from './pipeline.js';
import { appendConfig, type FollowedStream } from './escalation-log.js';

/** Helpers of the notification-rules and handoff integration tests. */

export type Notice = EventOf<'NotificationRequested'>;
export const noticesOf = (log: FollowedStream, alertId: string): Notice[] =>
  log.events.filter((e): e is Notice => e.type === 'NotificationRequested' && e.data.alertId === alertId);
export const isNotice =
  (alertId: string, kind = 'page') =>
  (e: DomainEvent): e is Notice =>
    e.type === 'NotificationRequested' && e.data.alertId === alertId && e.data.kind === kind;
export const channels = (n: Notice): string => n.data.contacts.map((c) => c.channel).join('+') || '∅';

/** A one-step policy paging alice, routed for the pipeline's `checkout` service, and alice's rules (delays in seconds). */
export async function seed(p: TestPipeline, rules: Array<[channel: 'slack' | 'sms' | 'voice' | 'email', delaySeconds: number]>) {
  await appendConfig(p.admin, 'policy', 'checkout', 'EscalationPolicyConfigured', {
    policyId: 'checkout',
    name: 'Checkout on-call',
    repeat: 0,
    steps: [{ delaySeconds: 1800, targets: [{ type: 'user', userId: 'alice' }], untilAllAck: false }],
  });
  await appendConfig(p.admin, 'routing', 'checkout', 'RoutingConfigured', {
    serviceId: 'checkout',
    escalationPolicyId: 'checkout',
    templateId: null,
    ackTimeoutSeconds: null,
    rules: [],
  });
  await appendConfig(p.admin, 'rules', 'alice', 'NotificationRulesConfigured', {
    userId: 'alice',
    rules: rules.map(([channel, delaySeconds]) => ({ channel, delaySeconds })),
  });
}

export async function command(p: TestPipeline, alert: { alertId: string; fingerprint: string }, cmd: 'acknowledge' | 'resolve') {
  const event = buildEvent(
    'AlertCommandReceived',
    { ...alert, serviceId: 'checkout', command: cmd, userId: 'alice', note: '', until: null, reason: '' },
    { id: stableUuid(`${cmd}:${alert.alertId}`), occurredAt: new Date().toISOString(), causationId: null, correlationId: alert.alertId },
  );
  await jetstream(p.admin).publish(subjects.intake(partitionOf('checkout', alert.fingerprint, p.partitions)), encodeEvent(event));
}

export async function trigger(p: TestPipeline, log: FollowedStream, summary: string) {
  const body = JSON.stringify({ summary, severity: 'critical', dedup_key: summary, labels: {} });
  expect((await p.post('/api/v1/webhook/generic', body)).status).toBe(202);
  const [routed] = await log.waitFor((e) => e.type === 'AlertRouted' && e.data.alert.summary === summary);
  const d = (routed as EventOf<'AlertRouted'>).data;
  return { alertId: d.alertId, fingerprint: d.alert.fingerprint };
}
