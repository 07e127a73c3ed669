import { describe, expect, it } from 'vitest';
import { z, ZodError } from 'zod';
import {
  decodeEvent,
  encodeEvent,
  EVENT_TYPES,
  EventDecodeError,
  makeEvent,
  stableUuid,
  type EventData,
  type EventType,
} from './events.js';

const ALERT = { alertId: '11111111-1111-4111-8111-111111111111', serviceId: 'svc', fingerprint: 'fp-1' };
const CONTENT = { summary: 's', details: 'd', severity: 'critical', labels: { a: '1' }, annotations: {} } as const;
const LINKS = [{ href: 'http://grafana/d/1', text: 'Dashboard' }];
const CUSTOM = { values: { B: 99.5 }, tags: ['db'] };
const SEEN_AT = '2026-01-01T00:05:00.000Z';
const HASH = 'a'.repeat(64);
/** The alert as the escalator knew it, carried by routing decisions and notification requests. */
const SNAPSHOT = {
  ...ALERT,
  serviceName: 'Service',
  status: 'triggered',
  summary: 'db-1 replication lag',
  details: 'replica 3 is 120 s behind',
  severity: 'critical',
  labels: { team: 'db', site: 'fra1' },
  annotations: { runbook: 'https://runbooks.example.com/replication' },
  links: LINKS,
  source: 'alertmanager',
  triggeredAt: '2026-01-01T00:00:00Z',
} as const;
const META = {
  id: '22222222-2222-4222-8222-222222222222',
  occurredAt: '2026-01-01T00:00:00.000Z',
  causationId: null,
  correlationId: 'corr-1',
};

/** One valid `data` per event type; the table below fails to compile when a type is added. */
const SAMPLES: { [T in EventType]: EventData<T> } = {
  SignalsReceived: {
    serviceId: 'svc',
    source: 'alertmanager',
    requestId: 'req-1',
    signals: [
      {
        fingerprint: 'fp-1',
        status: 'firing',
        ...CONTENT,
        labels: { a: '1' },
        annotations: {},
        startsAt: null,
        endsAt: null,
        generatorUrl: null,
        links: LINKS,
        custom: CUSTOM,
      },
      { fingerprint: 'fp-2', status: 'acknowledged', ...CONTENT, startsAt: null, endsAt: null, generatorUrl: null, links: [], custom: {} },
    ],
    context: { groupKey: 'g' },
  },
  AlertTriggered: {
    ...ALERT,
    ...CONTENT,
    labels: { a: '1' },
    annotations: {},
    links: LINKS,
    custom: CUSTOM,
    source: 'grafana',
    startsAt: '2026-01-01T00:00:00Z',
    generatorUrl: null,
    seenAt: SEEN_AT,
  },
  AlertUpdated: {
    ...ALERT,
    ...CONTENT,
    labels: { a: '2' },
    annotations: {},
    links: [],
    custom: {},
    changed: ['labels', 'links', 'custom'],
    repeatCount: 0,
    seenAt: SEEN_AT,
  },
  AlertRepeated: { ...ALERT, repeatCount: 3, seenAt: SEEN_AT, links: [], custom: { values: { B: 1 } } },
  AlertAcknowledged: { ...ALERT, by: 'user', userId: 'u1', note: '' },
  AlertResolved: { ...ALERT, by: 'source', userId: null, note: '', endsAt: '2026-01-01T01:00:00Z' },
  ServiceConfigured: { serviceId: 'svc', name: 'Svc', description: '', integrationKeys: [{ name: 'am', keyHash: HASH }] },
  ServiceRemoved: { serviceId: 'svc' },
  HeartbeatMonitorConfigured: { monitorId: 'hb-1', serviceId: 'svc', name: 'nightly backup', intervalSeconds: 300 },
  HeartbeatMonitorRemoved: { monitorId: 'hb-1' },
  HeartbeatReceived: { monitorId: 'hb-1', serviceId: 'svc', receivedAt: SEEN_AT },
  AlertCommandReceived: {
    ...ALERT,
    command: 'snooze',
    userId: 'alice',
    note: 'maintenance tonight',
    until: '2026-01-01T02:00:00Z',
    reason: '',
  },
  AlertCommandDeclined: {
    ...ALERT,
    command: 'acknowledge',
    userId: 'bob',
    via: 'slack',
    reason: 'closed',
    message: 'alert is not open: it was resolved',
    status: 'resolved',
    lastChange: null,
  },
  AlertSnoozed: { ...ALERT, userId: 'alice', until: '2026-01-01T02:00:00Z', note: 'maintenance tonight' },
  AlertEscalated: { ...ALERT, userId: 'bob', note: 'need the database team' },
  AlertUnacknowledged: { ...ALERT, userId: null, reason: 'ack-timeout' },
  AlertRouted: {
    alertId: ALERT.alertId,
    serviceId: 'svc',
    alert: SNAPSHOT,
    rules: ['critical-db', 'business-hours'],
    policyId: 'db-oncall',
    templateId: 'db-page',
    templateVersion: 3,
    severity: 'critical',
    severityBoost: { from: 'warning', to: 'error', by: 'equipment:core_router', boost: 1, severity: null },
    severityRule: 'critical-db',
    ticket: 'jira',
    ackTimeoutSeconds: 3600,
    suppressed: { by: 'maintenance', windowId: 'fra1-upgrade', until: '2026-01-01T04:00:00Z' },
    maintenance: ['fra1-annotate'],
    alertSeq: 42,
  },
  EscalationStepReached: {
    alertId: ALERT.alertId,
    serviceId: 'svc',
    policyId: 'db-oncall',
    step: 1,
    round: 0,
    page: 0,
    recipients: [
      { type: 'user', userId: 'alice', via: 'schedule:db-primary' },
      { type: 'slack', channel: '#db-alerts' },
      { type: 'webhook', url: 'https://hooks.example.com/oncall' },
    ],
    untilAllAck: false,
    nextAt: '2026-01-01T00:15:00Z',
    reason: 'timeout',
  },
  NotificationRequested: {
    alertId: ALERT.alertId,
    serviceId: 'svc',
    notificationId: '33333333-3333-4333-8333-333333333333',
    kind: 'page',
    step: 1,
    round: 0,
    page: 0,
    recipient: { type: 'user', userId: 'alice', via: 'schedule:db-primary' },
    contacts: [
      { channel: 'sms', address: '+4915112345678' },
      { channel: 'email', address: 'alice@example.com' },
    ],
    userName: 'Alice Example',
    templateId: 'db-page',
    templateVersion: 3,
    priority: 'critical',
    alert: SNAPSHOT,
    escalation: { policyId: 'db-oncall', policyName: 'Database on-call', step: 1, totalSteps: 3 },
  },
  EscalationStopped: {
    alertId: ALERT.alertId,
    serviceId: 'svc',
    reason: 'acknowledged',
    userId: 'alice',
    reopenAt: '2026-01-01T01:00:00Z',
  },
  AlertReopenRequested: { alertId: ALERT.alertId, serviceId: 'svc', reason: 'ack-timeout' },
  AlertInhibited: { alertId: ALERT.alertId, serviceId: 'svc', by: META.id, rule: 'site-down', bySummary: 'ams2 down' },
  AlertReleased: { alertId: ALERT.alertId, serviceId: 'svc', by: META.id, rule: 'site-down' },
  IncidentOpened: {
    alertId: ALERT.alertId,
    serviceId: 'svc',
    incidentId: META.id,
    groupKey: 'svc|ams2',
    groupLabels: { site: 'ams2' },
    summary: 'x',
  },
  AlertGrouped: { alertId: ALERT.alertId, serviceId: 'svc', incidentId: META.id, groupKey: 'svc|ams2', firstAlertId: META.id },
  IncidentResolved: { alertId: ALERT.alertId, serviceId: 'svc', incidentId: META.id, groupKey: 'svc|ams2' },
  IncidentTakenOver: {
    alertId: ALERT.alertId,
    serviceId: 'svc',
    incidentId: META.id,
    groupKey: 'svc|ams2',
    from: META.id,
    to: ALERT.alertId,
  },
  IncidentUpdated: { alertId: ALERT.alertId, serviceId: 'svc', incidentId: META.id, alerts: 38 },
  FlappingStarted: { alertId: ALERT.alertId, serviceId: 'svc', fingerprint: 'fp', flips: 4, windowSeconds: 600 },
  AlertFlapped: { alertId: ALERT.alertId, serviceId: 'svc', fingerprint: 'fp', flappingSince: '2026-01-01T00:00:00Z' },
  FlappingEnded: { alertId: ALERT.alertId, serviceId: 'svc', fingerprint: 'fp', flappingSince: '2026-01-01T00:00:00Z' },
  SlaBreached: { alertId: ALERT.alertId, serviceId: 'svc', tier: 'enterprise', responseSeconds: 900, deadline: '2026-01-01T00:15:00Z' },
  NotificationDelivered: {
    alertId: ALERT.alertId,
    serviceId: 'svc',
    notificationId: '33333333-3333-4333-8333-333333333333',
    idempotencyKey: '33333333-3333-4333-8333-333333333333:sms',
    channel: 'sms',
    destination: '+49151•••••678',
    providerMessageId: 'SM0123456789abcdef',
    attempts: 2,
    templateId: 'db-page',
    templateVersion: 3,
    bundled: 1,
  },
  NotificationFailed: {
    alertId: ALERT.alertId,
    serviceId: 'svc',
    notificationId: '33333333-3333-4333-8333-333333333333',
    idempotencyKey: '33333333-3333-4333-8333-333333333333:sms',
    channel: 'sms',
    destination: '+49151•••••678',
    reason: 'invalid_destination',
    retryable: false,
    attempts: 1,
    error: 'HTTP 400: the To number is not a valid phone number',
    fallback: 'voice',
  },
  NotificationStatusReported: {
    alertId: ALERT.alertId,
    serviceId: 'svc',
    notificationId: '33333333-3333-4333-8333-333333333333',
    channel: 'sms',
    destination: '+49151•••••678',
    providerMessageId: 'SM0123',
    status: 'undelivered',
    errorCode: '30003',
  },
  TicketCreated: {
    alertId: ALERT.alertId,
    serviceId: 'svc',
    providerId: 'jira',
    ticketKey: 'OPS-1234',
    url: 'https://jira.example.com/browse/OPS-1234',
  },
  TicketStatusChanged: { alertId: ALERT.alertId, serviceId: 'svc', providerId: 'jira', ticketKey: 'OPS-1234', status: 'In Progress' },
  TicketProviderConfigured: {
    providerId: 'jira',
    type: 'jira',
    name: 'Jira Cloud',
    settings: { baseUrl: 'https://example.atlassian.net', project: 'OPS' },
    auth: { kind: 'basic', username: 'bot@example.com', password: { env: 'JIRA_API_TOKEN' } },
    fields: { summary: 'alert.summary' },
    sync: {
      onAcknowledge: { transition: 'In Progress', comment: true },
      onResolve: { transition: 'Done', comment: true },
      onReopen: { transition: null, comment: true },
      resolveAlertOn: ['resolved', 'closed'],
      mirrorComments: false,
      pollSeconds: null,
    },
    inboundSecret: { env: 'JIRA_WEBHOOK_SECRET' },
  },
  TicketProviderRemoved: { providerId: 'jira' },
  TicketRequested: { alertId: ALERT.alertId, serviceId: 'svc', providerId: 'jira', requestedBy: 'rule', userId: null, requestId: 'r-1' },
  TicketUpdated: {
    alertId: ALERT.alertId,
    serviceId: 'svc',
    providerId: 'jira',
    ticketKey: 'OPS-1234',
    change: 'acknowledged',
    state: 'in_progress',
    cause: 'e-1',
  },
  TicketSyncFailed: {
    alertId: ALERT.alertId,
    serviceId: 'svc',
    providerId: 'jira',
    ticketKey: null,
    operation: 'create',
    error: 'HTTP 429',
    httpStatus: 429,
    attempt: 1,
    permanent: false,
    retryAt: '2026-01-01T00:00:30.000Z',
  },
  TicketLinked: {
    alertId: ALERT.alertId,
    serviceId: 'svc',
    providerId: 'jira',
    ticketKey: 'OPS-9',
    url: null,
    userId: 'alice',
    via: 'api',
  },
  MessageParked: {
    consumer: 'projector-alerts-v1',
    stream: 'ALERTS',
    seq: 12,
    subject: 'alerts.0.x',
    reason: 'rejected-by-database',
    error: 'invalid byte sequence',
    data: 'e30=',
    truncated: false,
    parkedAt: '2026-01-01T00:00:00.000Z',
  },
  ParkedMessageRetried: {
    consumer: 'projector-alerts-v1',
    stream: 'ALERTS',
    seq: 12,
    outcome: 'applied',
    error: null,
    retriedAt: '2026-01-01T00:01:00.000Z',
  },
  ScheduleConfigured: {
    scheduleId: 'db-primary',
    name: 'Database primary',
    timeZone: 'Europe/Berlin',
    rotations: [
      {
        id: 'weekly',
        name: 'Weekly',
        type: 'weekly',
        shiftLength: 1,
        start: '2026-01-05T09:00:00+01:00',
        members: ['alice', 'bob', 'carol'],
        restrictions: [],
      },
      {
        id: 'nights',
        name: 'Nights',
        type: 'daily',
        shiftLength: 1,
        start: '2026-01-05T22:00:00+01:00',
        members: ['dave', 'erin'],
        restrictions: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '22:00', to: '06:00' }],
      },
    ],
    overrides: [
      { kind: 'replace', userId: 'frank', replaces: 'alice', start: '2026-01-10T09:00:00+01:00', end: '2026-01-11T09:00:00+01:00' },
    ],
    temporary: [{ start: '2026-12-24T00:00:00+01:00', end: '2026-12-27T00:00:00+01:00', users: ['grace'] }],
  },
  ScheduleRemoved: { scheduleId: 'db-primary' },
  EscalationPolicyConfigured: {
    policyId: 'db-oncall',
    name: 'Database on-call',
    steps: [
      { delaySeconds: 300, targets: [{ type: 'schedule', scheduleId: 'db-primary' }], untilAllAck: false },
      {
        delaySeconds: 600,
        targets: [
          { type: 'rotation', scheduleId: 'db-primary', rotationId: 'nights' },
          { type: 'user', userId: 'heidi' },
          { type: 'slack', channel: '#db-alerts' },
          { type: 'webhook', url: 'https://hooks.example.com/oncall' },
        ],
        untilAllAck: true,
      },
    ],
    repeat: 2,
  },
  EscalationPolicyRemoved: { policyId: 'db-oncall' },
  RoutingConfigured: {
    serviceId: 'svc',
    escalationPolicyId: 'db-oncall',
    templateId: 'db-page',
    ackTimeoutSeconds: 3600,
    rules: [
      {
        name: 'critical-db',
        when: 'labels.team == "db" && alert.severity == "critical"',
        policyId: 'db-oncall',
        templateId: null,
        severity: null,
        ticket: 'jira',
        suppress: false,
        continue: true,
      },
      {
        name: 'drop-test',
        when: 'labels.env == "test"',
        policyId: null,
        templateId: null,
        severity: 'info',
        ticket: null,
        suppress: true,
        continue: false,
      },
    ],
  },
  RoutingRemoved: { serviceId: 'svc' },
  MaintenanceWindowConfigured: {
    windowId: 'fra1-upgrade',
    name: 'fra1 router upgrade',
    start: '2026-01-01T02:00:00Z',
    end: '2026-01-01T04:00:00Z',
    services: ['network-edge'],
    labels: { site: 'fra1' },
    when: 'labels.device.startsWith("rtr")',
    mode: 'suppress',
  },
  MaintenanceWindowRemoved: { windowId: 'fra1-upgrade' },
  CalendarConfigured: {
    calendarId: 'business-hours',
    name: 'Business hours (Berlin)',
    timeZone: 'Europe/Berlin',
    hours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' }],
    holidays: ['2026-12-25', '2026-12-26'],
  },
  CalendarRemoved: { calendarId: 'business-hours' },
  TemplateVersionPublished: {
    templateId: 'db-page',
    version: 3,
    name: 'Database page',
    description: 'Pages for the database team',
    channels: {
      slack: ':rotating_light: {{ alert.summary }}',
      teams: null,
      emailSubject: '[{{ alert.severity }}] {{ alert.summary }}',
      emailHtml: '<p>{{ alert.details }}</p>',
      emailText: '{{ alert.details }}',
      sms: '{{ alert.summary | truncate: 120 }}',
      voice: 'Alert: {{ alert.summary }}',
      webhook: null,
    },
    variables: { required: ['alert.summary'], optional: ['alert.details'] },
    createdBy: 'alice',
  },
  TemplateRemoved: { templateId: 'db-page' },
  NotificationRulesConfigured: {
    userId: 'alice',
    rules: [
      { channel: 'slack', delaySeconds: 0 },
      { channel: 'sms', delaySeconds: 60 },
    ],
  },
  NotificationRulesRemoved: { userId: 'alice' },
  SiteRegistryConfigured: {
    sites: [
      { siteId: 'ams2', name: 'Amsterdam 2', kind: 'pop', parentId: 'eu', timeZone: 'Europe/Amsterdam', tier: null, devices: ['ams2-r1'] },
    ],
    placementLabels: ['site', 'pop'],
    deviceLabel: 'device',
  },
  InhibitRuleConfigured: { ruleId: 'site-down', source: 'true', target: 'true', equal: [], scope: 'site', waitSeconds: 10 },
  InhibitRuleRemoved: { ruleId: 'site-down' },
  CustomerTiersConfigured: {
    label: 'customer_tier',
    tiers: [{ tierId: 'enterprise', name: 'Enterprise', responseSeconds: 900, escalateBeforeSeconds: 300 }],
  },
  ResponseTiersConfigured: { tiers: [{ tierId: 'L1', name: 'L1', targets: [{ type: 'schedule', scheduleId: 'noc-l1' }] }] },
  ContactVerificationRequested: {
    requestId: '33333333-3333-4333-8333-333333333333',
    userId: 'alice',
    channel: 'sms',
    address: '+15555550101',
    salt: '0123456789abcdef0123456789abcdef',
    codeHash: 'a'.repeat(64),
    expiresAt: '2026-01-01T00:10:00.000Z',
    maxAttempts: 5,
  },
  ContactMethodVerified: {
    userId: 'alice',
    channel: 'sms',
    address: '+15555550101',
    requestId: '33333333-3333-4333-8333-333333333333',
    via: 'cli',
  },
  EquipmentTypesConfigured: {
    label: 'equipment_type',
    types: { core_router: { boost: 1, severity: null }, firewall: { boost: null, severity: 'critical' } },
  },
  EquipmentTypesRemoved: {},
  DestinationRegistered: { ownerId: 'noc', channel: 'slack', address: 'C0NOC1234', registeredBy: 'alice' },
  ApiTokenCreated: {
    tokenId: 'a1b2c3d4e5f6',
    name: 'kneutral-api',
    scopes: ['read', 'respond'],
    userId: null,
    tokenHash: 'a'.repeat(64),
    createdAt: '2026-01-01T00:00:00.000Z',
    expiresAt: null,
  },
  ApiTokenRevoked: { tokenId: 'a1b2c3d4e5f6' },
  HandoffSummaryRequested: {
    scheduleId: 'primary',
    scheduleName: 'Primary',
    at: '2026-03-28T08:00:00.000Z',
    shiftStart: '2026-03-27T08:00:00.000Z',
    outgoing: ['alice'],
    incoming: ['bob'],
    services: ['web'],
    recipients: [{ userId: 'bob', role: 'incoming', channel: 'email', contacts: [{ channel: 'email', address: 'bob@example.com' }] }],
    open: [],
    fired: [],
    acked: [],
    text: { incoming: 'Primary: you take over from alice', outgoing: 'Primary: you hand over to bob' },
  },
};

const bytes = (value: unknown): Uint8Array => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

describe('makeEvent / encodeEvent / decodeEvent', () => {
  it.each(EVENT_TYPES)('%s round-trips', (type) => {
    const event = makeEvent(type, SAMPLES[type] as never, { ...META, causationSeq: 7 });
    expect(event).toMatchObject({ type, v: 1, data: SAMPLES[type], ...META, causationSeq: 7 });
    expect(decodeEvent(encodeEvent(event))).toStrictEqual(event);
  });

  it('an AlertRouted and a page written before the severity fields still decode (the fields are optional)', () => {
    const { severityBoost: _b, severityRule: _r, ...old } = SAMPLES.AlertRouted;
    expect(decodeEvent(encodeEvent(makeEvent('AlertRouted', old, META))).data).toStrictEqual(old);
    const page = SAMPLES.NotificationRequested;
    const { sourceSeverity: _s, ...oldAlert } = { ...page.alert, sourceSeverity: 'warning' as const };
    const decoded = decodeEvent(encodeEvent(makeEvent('NotificationRequested', { ...page, alert: oldAlert }, META)));
    expect(decoded.type === 'NotificationRequested' && decoded.data.alert).toStrictEqual(oldAlert);
  });

  it.each<[string, EventType, unknown]>([
    ['alertId not a UUID', 'AlertAcknowledged', { ...SAMPLES.AlertAcknowledged, alertId: 'x' }],
    ['keyHash not sha256 hex', 'ServiceConfigured', { ...SAMPLES.ServiceConfigured, integrationKeys: [{ name: 'k', keyHash: 'secret' }] }],
    ['no signals', 'SignalsReceived', { ...SAMPLES.SignalsReceived, signals: [] }],
    ['an empty changed list', 'AlertUpdated', { ...SAMPLES.AlertUpdated, changed: [] }],
    ['an unknown severity', 'AlertTriggered', { ...SAMPLES.AlertTriggered, severity: 'high' }],
    [
      'an unknown signal status',
      'SignalsReceived',
      { ...SAMPLES.SignalsReceived, signals: [{ ...SAMPLES.SignalsReceived.signals[0], status: 'snoozed' }] },
    ],
    [
      'a signal without links',
      'SignalsReceived',
      { ...SAMPLES.SignalsReceived, signals: [{ ...SAMPLES.SignalsReceived.signals[0], links: undefined }] },
    ],
    [
      'a signal without custom',
      'SignalsReceived',
      { ...SAMPLES.SignalsReceived, signals: [{ ...SAMPLES.SignalsReceived.signals[0], custom: undefined }] },
    ],
    ['a link without text', 'AlertTriggered', { ...SAMPLES.AlertTriggered, links: [{ href: 'http://x' }] }],
    ['custom that is an array', 'AlertTriggered', { ...SAMPLES.AlertTriggered, custom: [1, 2] }],
    ['a triggered alert without seenAt', 'AlertTriggered', { ...SAMPLES.AlertTriggered, seenAt: undefined }],
    ['seenAt not a time', 'AlertTriggered', { ...SAMPLES.AlertTriggered, seenAt: 'yesterday' }],
    ['an update without repeatCount', 'AlertUpdated', { ...SAMPLES.AlertUpdated, repeatCount: undefined }],
    ['a negative update repeatCount', 'AlertUpdated', { ...SAMPLES.AlertUpdated, repeatCount: -1 }],
    ['an update without links', 'AlertUpdated', { ...SAMPLES.AlertUpdated, links: undefined }],
    ['a repeatCount of 0', 'AlertRepeated', { ...SAMPLES.AlertRepeated, repeatCount: 0 }],
    ['a fractional repeatCount', 'AlertRepeated', { ...SAMPLES.AlertRepeated, repeatCount: 1.5 }],
    ['a repeat without seenAt', 'AlertRepeated', { ...SAMPLES.AlertRepeated, seenAt: undefined }],
    ['an acknowledgement without by', 'AlertAcknowledged', { ...SAMPLES.AlertAcknowledged, by: undefined }],
    ['an acknowledgement by a robot', 'AlertAcknowledged', { ...SAMPLES.AlertAcknowledged, by: 'robot' }],
    ['a snooze without until', 'AlertSnoozed', { ...SAMPLES.AlertSnoozed, until: null }],
    [
      'a rotation without members',
      'ScheduleConfigured',
      { ...SAMPLES.ScheduleConfigured, rotations: [{ ...SAMPLES.ScheduleConfigured.rotations[0], members: [] }] },
    ],
    [
      'a time of day of 24:00',
      'CalendarConfigured',
      { ...SAMPLES.CalendarConfigured, hours: [{ days: ['mon'], from: '09:00', to: '24:00' }] },
    ],
    ['a holiday that is not a date', 'CalendarConfigured', { ...SAMPLES.CalendarConfigured, holidays: ['Christmas'] }],
    ['a policy without steps', 'EscalationPolicyConfigured', { ...SAMPLES.EscalationPolicyConfigured, steps: [] }],
    [
      'a webhook target that is not a URL',
      'EscalationPolicyConfigured',
      {
        ...SAMPLES.EscalationPolicyConfigured,
        steps: [{ delaySeconds: 0, targets: [{ type: 'webhook', url: 'nope' }], untilAllAck: false }],
      },
    ],
    ['an API token with an unknown scope', 'ApiTokenCreated', { ...SAMPLES.ApiTokenCreated, scopes: ['root'] }],
    ['an API token whose hash is not hex SHA-256', 'ApiTokenCreated', { ...SAMPLES.ApiTokenCreated, tokenHash: 'secret' }],
    ['an equipment boost of 4 levels', 'EquipmentTypesConfigured', { label: 'equipment_type', types: { x: { boost: 4, severity: null } } }],
    [
      'an equipment type with an unknown severity',
      'EquipmentTypesConfigured',
      { label: 'equipment_type', types: { x: { boost: null, severity: 'high' } } },
    ],
    ['an empty equipment label', 'EquipmentTypesConfigured', { label: '', types: {} }],
    ['a template version 0', 'TemplateVersionPublished', { ...SAMPLES.TemplateVersionPublished, version: 0 }],
    ['a negative escalation step', 'EscalationStepReached', { ...SAMPLES.EscalationStepReached, step: -1 }],
    ['a notification id that is not a UUID', 'NotificationRequested', { ...SAMPLES.NotificationRequested, notificationId: 'n-1' }],
    ['an unknown delivery channel', 'NotificationDelivered', { ...SAMPLES.NotificationDelivered, channel: 'pager' }],
    ['a failure with zero attempts', 'NotificationFailed', { ...SAMPLES.NotificationFailed, attempts: 0 }],
    ['an unknown provider status', 'NotificationStatusReported', { ...SAMPLES.NotificationStatusReported, status: 'lost' }],
    ['an unknown stop reason', 'EscalationStopped', { ...SAMPLES.EscalationStopped, reason: 'bored' }],
  ])('makeEvent throws a ZodError for %s', (_, type, data) => {
    expect(() => makeEvent(type, data as never, META)).toThrow(ZodError);
  });

  it('accepts an acknowledgement by the source with no user', () => {
    const data = { ...ALERT, by: 'source', userId: null, note: '' } as const;
    expect(makeEvent('AlertAcknowledged', data, META).data).toStrictEqual(data);
  });

  it('keeps nested custom data as-is through a round trip', () => {
    const event = makeEvent('AlertTriggered', SAMPLES.AlertTriggered, META);
    expect(decodeEvent(encodeEvent(event)).data).toMatchObject({ links: LINKS, custom: CUSTOM });
  });
});

describe('decodeEvent rejects', () => {
  const valid = { type: 'ServiceRemoved', v: 1, data: { serviceId: 'svc' }, ...META };

  it.each<[string, Uint8Array, RegExp]>([
    ['non-JSON bytes', bytes('{not json'), /^event is not JSON$/],
    ['invalid UTF-8 / binary', new Uint8Array([0xff, 0x00, 0x7b]), /^event is not JSON$/],
    ['a JSON array', bytes([valid]), /^bad envelope/],
    ['an id that is not a UUID', bytes({ ...valid, id: 'nope' }), /^bad envelope/],
    ['a missing correlationId', bytes({ ...valid, correlationId: undefined }), /^bad envelope/],
    ['version 0', bytes({ ...valid, v: 0 }), /^bad envelope/],
    ['occurredAt not a time', bytes({ ...valid, occurredAt: 'now' }), /^bad envelope/],
    ['an unknown type', bytes({ ...valid, type: 'AlertExploded' }), /^unknown event AlertExploded v1$/],
    ['a prototype key as type', bytes({ ...valid, type: 'constructor' }), /^unknown event constructor v1$/],
    ['an unknown version', bytes({ ...valid, v: 2 }), /^unknown event ServiceRemoved v2$/],
    ['data failing its schema', bytes({ ...valid, data: { serviceId: 42 } }), /^bad ServiceRemoved v1: /],
  ])('%s', (_, input, message) => {
    let caught: unknown;
    try {
      decodeEvent(input);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(EventDecodeError);
    expect((caught as Error).message).toMatch(message);
  });
});

describe('stableUuid', () => {
  const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const names = ['', 'a', 'b', 'intake.0:req-1', 'intake.1:req-1', 'ünïcødé ✓'];

  it.each(names)('%j gives the same v4-layout UUID every time', (name) => {
    const id = stableUuid(name);
    expect(id).toMatch(V4);
    expect(z.string().uuid().safeParse(id).success).toBe(true);
    expect(stableUuid(name)).toBe(id);
  });

  it('gives different ids for different names', () => {
    expect(new Set(names.map(stableUuid)).size).toBe(names.length);
  });

  // Ids stored in the log must come out the same from every later release: a restarted decider
  // matches the events it re-decides with the stored ones by id.
  it.each([
    ['intake.0:req-1', 'fb3f9d54-8e4f-4cbf-a5cd-5a19788a6d60'],
    ['alert:3f0c8b5e-0000-4000-8000-000000000000:7', 'bd7f334b-4325-4db6-86bb-6f33e640a249'],
    ['ünïcødé ✓', 'a6745d77-6703-41f4-86b2-13eef2a38cf5'],
  ])('%j is %s, as in every earlier release', (name, id) => {
    expect(stableUuid(name)).toBe(id);
  });
});
