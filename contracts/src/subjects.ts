/**
 * Subject layout. Every subject the services publish or consume is built here.
 *
 *   intake.<p>               decider inputs of partition p (signal batches, alert commands)
 *   alerts.<p>.<alertId>     lifecycle events of one alert (its whole history by subject)
 *   config.<kind>.<id>       configuration events of one configuration aggregate
 *   config.contact.<user>.<channel>  verification of one contact method of a user (requests, confirmations)
 *   config.destination.<owner>.<channel>  a registered destination (SendNotification by owner and channel)
 *   heartbeats.<monitorId>   beats of one heartbeat monitor
 *   escalations.<p>.<alertId>  escalator decisions about one alert (routing, steps, notifications)
 *   deliveries.<p>.<alertId>   dispatcher outcomes for one alert's notifications
 *   tickets.<p>.<alertId>      ticket bridge events for one alert
 *   parked.<consumer>          messages a consumer could not apply, and their retries
 *   oncall.retry.<consumer>    (core NATS, no stream) asks a running consumer to take a parked message again
 */
export const STREAMS = {
  intake: 'INTAKE',
  alerts: 'ALERTS',
  config: 'CONFIG',
  heartbeats: 'HEARTBEATS',
  escalations: 'ESCALATIONS',
  deliveries: 'DELIVERIES',
  tickets: 'TICKETS',
  parked: 'PARKED',
} as const;

export type ConfigKind =
  | 'service'
  | 'heartbeat'
  | 'schedule'
  | 'policy'
  | 'routing'
  | 'maintenance'
  | 'calendar'
  | 'template'
  | 'rules'
  /** The NOC model: \`config.noc.sites\`, \`config.noc.customer-tiers\`, \`config.noc.response-tiers\`; inhibit rules \`config.inhibit.<ruleId>\`. */
  | 'noc'
  | 'inhibit'
  | 'contact'
  | 'equipment'
  | 'destination'
  /** API tokens: \`config.token.<tokenId>\`. */
  | 'token'
  /** Ticket providers: \`config.ticket-provider.<providerId>\`. */
  | 'ticket-provider';

export const subjects = {
  intake: (partition: number): string => `intake.${partition}`,
  intakeAll: 'intake.>',
  alert: (partition: number, alertId: string): string => `alerts.${partition}.${alertId}`,
  alertsOfPartition: (partition: number): string => `alerts.${partition}.>`,
  /** One alert's history; the partition is a wildcard so the alert id alone finds it. */
  alertHistory: (alertId: string): string => `alerts.*.${alertId}`,
  alertsAll: 'alerts.>',
  config: (kind: ConfigKind, id: string): string => `config.${kind}.${id}`,
  /** A user's notification rules; user ids may hold dots or other characters a subject token cannot. */
  userRules: (userId: string): string => `config.rules.${subjectToken(userId)}`,
  /** Verification of one of a user's contact methods: its requests and confirmations, in order. */
  contactVerification: (userId: string, channel: string): string => `config.contact.${subjectToken(userId)}.${channel}`,
  contactVerificationsAll: 'config.contact.>',
  /** A registered destination: where `ownerId` (a user or a team) receives `channel`. */
  destination: (ownerId: string, channel: string): string => `config.destination.${subjectToken(ownerId)}.${channel}`,
  configAll: 'config.>',
  heartbeat: (monitorId: string): string => `heartbeats.${monitorId}`,
  heartbeatsAll: 'heartbeats.>',
  escalation: (partition: number, alertId: string): string => `escalations.${partition}.${alertId}`,
  escalationsOfPartition: (partition: number): string => `escalations.${partition}.>`,
  escalationHistory: (alertId: string): string => `escalations.*.${alertId}`,
  escalationsAll: 'escalations.>',
  /** Handoff summaries of one schedule (not an alert partition: partition readers never see them). */
  handoff: (scheduleId: string): string => `escalations.handoffs.${subjectToken(scheduleId)}`,
  delivery: (partition: number, alertId: string): string => `deliveries.${partition}.${alertId}`,
  deliveriesOfPartition: (partition: number): string => `deliveries.${partition}.>`,
  deliveriesAll: 'deliveries.>',
  ticket: (partition: number, alertId: string): string => `tickets.${partition}.${alertId}`,
  ticketsAll: 'tickets.>',
  parked: (consumer: string): string => `parked.${consumer}`,
  parkedAll: 'parked.>',
  /** Request subject a running consumer answers to retry one of its parked messages. */
  parkedRetry: (consumer: string): string => `oncall.retry.${consumer}`,
} as const;

/** `id` as one subject token: as it is when plain (letters, digits, `_`, `-`, `@`), else `x-` and its UTF-8 bytes in hex. */
export function subjectToken(id: string): string {
  if (/^[A-Za-z0-9_@-]+$/.test(id)) return id;
  return `x-${[...new TextEncoder().encode(id)].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** Parses the partition out of an intake or alerts subject. */
export function partitionOfSubject(subject: string): number {
  const part = subject.split('.')[1];
  if (part === undefined || !/^\d+$/.test(part)) {
    throw new Error(`subject ${subject} carries no partition`);
  }
  return Number(part);
}

/**
 * The decider partition that owns an alert: FNV-1a (32 bit) of "service\nfingerprint" mod P.
 * Ingest, the decider and query-api commands must agree on it, so it lives in the contracts.
 */
export function partitionOf(serviceId: string, fingerprint: string, partitions: number): number {
  let h = 0x811c9dc5;
  const key = `${serviceId}\n${fingerprint}`;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}
