import {
  makeEvent,
  stableUuid,
  type AlertSnapshot,
  type ContactChannel,
  type DomainEvent,
  type EventData,
  type EventOf,
  type EventType,
  type Recipient,
} from '@oncall/contracts';

/**
 * Builders of valid escalation, delivery, ticket and configuration events (checked by
 * makeEvent), for tests that write them straight into streams or into applyBatch. Ids derive
 * from names and a counter, times from `clock`, so the same calls give the same events.
 */
export function eventFactory(start = Date.parse('2026-11-23T10:00:00.000Z')) {
  let n = 0;
  let clock = start;
  const make = <T extends EventType>(type: T, data: EventData<T>): EventOf<T> => {
    n += 1;
    clock += 1000;
    return makeEvent(type, data, {
      id: stableUuid(`${type}-${n}-${start}`),
      occurredAt: new Date(clock).toISOString(),
      causationId: null,
      correlationId: 'test',
    });
  };
  const minutes = (m: number) => new Date(clock + m * 60_000).toISOString();
  return { make, minutes, now: () => new Date(clock).toISOString() };
}

export type Factory = ReturnType<typeof eventFactory>;

export const alertRef = (name: string, serviceId = 'checkout') => ({ alertId: stableUuid(`alert-${name}`), serviceId });
export const notificationIdOf = (name: string, key: string) => stableUuid(`notification-${name}-${key}`);

export function snapshot(name: string, serviceId = 'checkout', alertId = alertRef(name, serviceId).alertId): AlertSnapshot {
  return {
    alertId,
    serviceId,
    serviceName: serviceId,
    fingerprint: `fp-${name}`,
    status: 'triggered',
    summary: `${name} is down`,
    details: '',
    severity: 'critical',
    labels: { instance: name },
    annotations: {},
    links: [],
    source: 'alertmanager',
    triggeredAt: '2026-11-23T10:00:00.000Z',
  };
}

export const user = (userId: string, via = 'schedule:primary'): Recipient => ({ type: 'user', userId, via });

/** The escalation events of one alert (of a made-up id derived from `name`, unless `alertId` is given). */
export function escalation(f: Factory, name: string, serviceId = 'checkout', alertId = alertRef(name, serviceId).alertId) {
  const ref = { alertId, serviceId };
  return {
    routed: (
      o: Partial<
        Pick<
          EventData<'AlertRouted'>,
          | 'policyId'
          | 'rules'
          | 'suppressed'
          | 'maintenance'
          | 'templateVersion'
          | 'alertSeq'
          | 'severity'
          | 'severityBoost'
          | 'severityRule'
          | 'site'
          | 'groupKey'
          | 'groupLabels'
          | 'sla'
        >
      > & { sourceSeverity?: EventData<'AlertRouted'>['severity'] } = {},
    ) =>
      f.make('AlertRouted', {
        ...ref,
        alert: { ...snapshot(name, serviceId, alertId), ...(o.sourceSeverity ? { severity: o.sourceSeverity } : {}) },
        rules: o.rules ?? [],
        policyId: o.policyId === undefined ? 'primary' : o.policyId,
        templateId: 'default',
        templateVersion: o.templateVersion === undefined ? 1 : o.templateVersion,
        severity: o.severity ?? 'critical',
        ...(o.severityBoost !== undefined ? { severityBoost: o.severityBoost } : {}),
        ...(o.severityRule !== undefined ? { severityRule: o.severityRule } : {}),
        ticket: null,
        ackTimeoutSeconds: 3600,
        suppressed: o.suppressed ?? null,
        maintenance: o.maintenance ?? [],
        alertSeq: o.alertSeq ?? 1,
        ...(o.site !== undefined ? { site: o.site } : {}),
        ...(o.groupKey !== undefined ? { groupKey: o.groupKey, groupLabels: o.groupLabels ?? {} } : {}),
        ...(o.sla !== undefined ? { sla: o.sla } : {}),
      }),
    step: (
      step: number,
      round: number,
      recipients: Recipient[],
      o: { page?: number; nextInMinutes?: number | null; reason?: EventData<'EscalationStepReached'>['reason'] } = {},
    ) =>
      f.make('EscalationStepReached', {
        ...ref,
        policyId: 'primary',
        step,
        round,
        page: o.page ?? 0,
        recipients,
        untilAllAck: false,
        nextAt: o.nextInMinutes === null ? null : f.minutes(o.nextInMinutes ?? 5),
        reason: o.reason ?? (step === 0 && round === 0 ? 'triggered' : 'timeout'),
      }),
    requested: (key: string, recipient: Recipient, o: { kind?: 'page' | 'resolved'; step?: number; channels?: ContactChannel[] } = {}) =>
      f.make('NotificationRequested', {
        ...ref,
        notificationId: notificationIdOf(name, key),
        kind: o.kind ?? 'page',
        step: o.step ?? 0,
        round: 0,
        page: 0,
        recipient,
        contacts:
          recipient.type === 'user'
            ? (o.channels ?? ['sms']).map((channel) => ({ channel, address: `${recipient.userId}@${channel}` }))
            : [],
        userName: recipient.type === 'user' ? recipient.userId : null,
        templateId: 'default',
        templateVersion: 1,
        priority: 'critical',
        alert: snapshot(name, serviceId, alertId),
        escalation: { policyId: 'primary', policyName: 'Primary', step: o.step ?? 0, totalSteps: 2 },
      }),
    stopped: (reason: EventData<'EscalationStopped'>['reason'], userId: string | null = null, reopenInMinutes: number | null = null) =>
      f.make('EscalationStopped', { ...ref, reason, userId, reopenAt: reopenInMinutes === null ? null : f.minutes(reopenInMinutes) }),
    reopenRequested: (reason: EventData<'AlertReopenRequested'>['reason'] = 'ack-timeout') =>
      f.make('AlertReopenRequested', { ...ref, reason }),
    delivered: (key: string, channel: ContactChannel, attempts = 1) =>
      f.make('NotificationDelivered', {
        ...ref,
        notificationId: notificationIdOf(name, key),
        idempotencyKey: `${notificationIdOf(name, key)}:${channel}`,
        channel,
        destination: `***${channel}`,
        providerMessageId: `msg-${name}-${key}-${channel}`,
        attempts,
        templateId: 'default',
        templateVersion: 1,
        bundled: 1,
      }),
    failed: (key: string, channel: ContactChannel, fallback: ContactChannel | null, attempts = 3) =>
      f.make('NotificationFailed', {
        ...ref,
        notificationId: notificationIdOf(name, key),
        idempotencyKey: `${notificationIdOf(name, key)}:${channel}`,
        channel,
        destination: `***${channel}`,
        reason: 'provider_unavailable',
        retryable: true,
        attempts,
        error: 'HTTP 503',
        fallback,
      }),
    // Storm sense (issue 16): the escalator's decisions about how the alert relates to others.
    inhibited: (by: string, rule = 'site-down') => f.make('AlertInhibited', { ...ref, by, rule, bySummary: 'site is down' }),
    released: (by: string, rule = 'site-down') => f.make('AlertReleased', { ...ref, by, rule }),
    incidentOpened: (incidentId: string, groupKey: string, groupLabels: Record<string, string> = {}) =>
      f.make('IncidentOpened', { ...ref, incidentId, groupKey, groupLabels, summary: `${name} is down` }),
    grouped: (incidentId: string, groupKey: string, firstAlertId: string) =>
      f.make('AlertGrouped', { ...ref, incidentId, groupKey, firstAlertId }),
    incidentResolved: (incidentId: string, groupKey: string) => f.make('IncidentResolved', { ...ref, incidentId, groupKey }),
    takenOver: (incidentId: string, groupKey: string, from: string, to: string) =>
      f.make('IncidentTakenOver', { ...ref, incidentId, groupKey, from, to }),
    flappingStarted: () => f.make('FlappingStarted', { ...ref, fingerprint: `fp-${name}`, flips: 3, windowSeconds: 600 }),
    flapped: (since: string) => f.make('AlertFlapped', { ...ref, fingerprint: `fp-${name}`, flappingSince: since }),
    flappingEnded: (since: string) => f.make('FlappingEnded', { ...ref, fingerprint: `fp-${name}`, flappingSince: since }),
    slaBreached: (tier: string, responseSeconds: number) =>
      f.make('SlaBreached', {
        ...ref,
        tier,
        responseSeconds,
        deadline: new Date(Date.parse(snapshot(name, serviceId, alertId).triggeredAt) + responseSeconds * 1000).toISOString(),
      }),
    ticketCreated: (key: string, providerId = 'jira') =>
      f.make('TicketCreated', { ...ref, providerId, ticketKey: key, url: `https://${providerId}.example.com/${key}` }),
    ticketStatus: (key: string, status: string, providerId = 'jira', more: Partial<EventData<'TicketStatusChanged'>> = {}) =>
      f.make('TicketStatusChanged', { ...ref, providerId, ticketKey: key, status, ...more }),
    // Issue 18: requests, sync outcomes and links.
    ticketRequested: (providerId = 'jira', userId: string | null = null) =>
      f.make('TicketRequested', {
        ...ref,
        providerId,
        requestedBy: userId === null ? 'rule' : 'api',
        userId,
        requestId: `req-${name}-${providerId}-${userId ?? 'rule'}`,
      }),
    ticketFound: (key: string, externalId: string, providerId = 'jira') =>
      f.make('TicketCreated', { ...ref, providerId, ticketKey: key, url: null, externalId, found: true }),
    ticketUpdated: (
      key: string,
      change: EventData<'TicketUpdated'>['change'],
      state: EventData<'TicketUpdated'>['state'],
      providerId = 'jira',
    ) => f.make('TicketUpdated', { ...ref, providerId, ticketKey: key, change, state, cause: stableUuid(`cause-${name}-${change}`) }),
    ticketFailed: (
      attempt: number,
      o: { key?: string | null; permanent?: boolean; providerId?: string; httpStatus?: number | null } = {},
    ) =>
      f.make('TicketSyncFailed', {
        ...ref,
        providerId: o.providerId ?? 'jira',
        ticketKey: o.key ?? null,
        operation: o.key ? 'update' : 'create',
        error: o.permanent ? 'invalid credentials' : 'rate limited',
        httpStatus: o.httpStatus === undefined ? (o.permanent ? 401 : 429) : o.httpStatus,
        attempt,
        permanent: o.permanent ?? false,
        retryAt: o.permanent ? null : f.minutes(1),
      }),
    ticketLinked: (key: string, userId: string, providerId = 'jira') =>
      f.make('TicketLinked', { ...ref, providerId, ticketKey: key, url: `https://${providerId}.example.com/${key}`, userId, via: 'api' }),
  };
}

/** Lifecycle events of one alert on ALERTS (the alerts projection's input). */
export function alertLifecycle(f: Factory, name: string, serviceId = 'checkout') {
  const ref = { ...alertRef(name, serviceId), fingerprint: `fp-${name}` };
  return {
    triggered: (severity: EventData<'AlertTriggered'>['severity'] = 'critical') =>
      f.make('AlertTriggered', {
        ...ref,
        source: 'alertmanager',
        summary: `${name} is down`,
        details: '',
        severity,
        labels: { instance: name },
        annotations: {},
        links: [],
        custom: {},
        startsAt: null,
        generatorUrl: null,
        seenAt: f.now(),
      }),
    /** The source sends a new severity (only the severity changed). */
    severityChanged: (severity: EventData<'AlertUpdated'>['severity']) =>
      f.make('AlertUpdated', {
        ...ref,
        summary: `${name} is down`,
        details: '',
        severity,
        labels: { instance: name },
        annotations: {},
        links: [],
        custom: {},
        changed: ['severity'],
        repeatCount: 0,
        seenAt: f.now(),
      }),
    acknowledged: (userId: string) => f.make('AlertAcknowledged', { ...ref, by: 'user', userId, note: '' }),
    snoozed: (userId: string, minutes: number) => f.make('AlertSnoozed', { ...ref, userId, until: f.minutes(minutes), note: '' }),
    escalated: (userId: string) => f.make('AlertEscalated', { ...ref, userId, note: 'more hands' }),
    unacknowledged: () => f.make('AlertUnacknowledged', { ...ref, userId: null, reason: 'ack-timeout' }),
    resolved: () => f.make('AlertResolved', { ...ref, by: 'source', userId: null, note: '', endsAt: null }),
  };
}

/** One configuration event of every kind, and changes and removals of some, in a plausible order. */
export function configLog(f: Factory): DomainEvent[] {
  const templateChannels = {
    slack: '{{ alert.summary }}',
    teams: null,
    emailSubject: '{{ alert.summary }}',
    emailHtml: null,
    emailText: '{{ alert.details }}',
    sms: '{{ alert.summary }}',
    voice: null,
    webhook: null,
  };
  return [
    f.make('ScheduleConfigured', {
      scheduleId: 'primary',
      name: 'Primary',
      timeZone: 'Europe/Berlin',
      rotations: [
        {
          id: 'weekly',
          name: 'Weekly',
          type: 'weekly',
          shiftLength: 1,
          start: '2026-11-02T09:00:00+01:00',
          members: ['carol', 'alice', 'bob'],
          restrictions: [],
        },
        {
          id: 'nights',
          name: 'Nights',
          type: 'daily',
          shiftLength: 1,
          start: '2026-11-02T22:00:00+01:00',
          members: ['dave'],
          restrictions: [{ days: ['mon', 'tue'], from: '22:00', to: '06:00' }],
        },
      ],
      overrides: [
        { kind: 'replace', userId: 'erin', replaces: 'alice', start: '2026-11-23T09:00:00+01:00', end: '2026-11-24T09:00:00+01:00' },
      ],
      temporary: [{ start: '2026-12-24T00:00:00+01:00', end: '2026-12-27T00:00:00+01:00', users: ['frank', 'gina'] }],
    }),
    f.make('ScheduleConfigured', {
      scheduleId: 'secondary',
      name: 'Secondary',
      timeZone: 'UTC',
      rotations: [
        { id: 'daily', name: 'Daily', type: 'daily', shiftLength: 1, start: '2026-11-02T08:00:00Z', members: ['hank'], restrictions: [] },
      ],
      overrides: [],
      temporary: [],
    }),
    // replaced: one rotation fewer, no override
    f.make('ScheduleConfigured', {
      scheduleId: 'primary',
      name: 'Primary (24/7)',
      timeZone: 'Europe/Berlin',
      rotations: [
        {
          id: 'weekly',
          name: 'Weekly',
          type: 'weekly',
          shiftLength: 1,
          start: '2026-11-02T09:00:00+01:00',
          members: ['bob', 'alice'],
          restrictions: [],
        },
      ],
      overrides: [],
      temporary: [{ start: '2026-12-24T00:00:00+01:00', end: '2026-12-27T00:00:00+01:00', users: ['frank'] }],
    }),
    f.make('EscalationPolicyConfigured', {
      policyId: 'primary',
      name: 'Primary',
      repeat: 1,
      steps: [
        { delaySeconds: 300, targets: [{ type: 'schedule', scheduleId: 'primary' }], untilAllAck: false },
        {
          delaySeconds: 600,
          targets: [
            { type: 'user', userId: 'ivan' },
            { type: 'slack', channel: '#ops' },
          ],
          untilAllAck: true,
        },
      ],
    }),
    f.make('EscalationPolicyConfigured', {
      policyId: 'old',
      name: 'Old',
      repeat: 0,
      steps: [{ delaySeconds: 60, targets: [{ type: 'webhook', url: 'https://hooks.example.com/x' }], untilAllAck: false }],
    }),
    f.make('EscalationPolicyRemoved', { policyId: 'old' }),
    f.make('RoutingConfigured', {
      serviceId: 'checkout',
      escalationPolicyId: 'primary',
      templateId: 'default',
      ackTimeoutSeconds: 3600,
      rules: [
        {
          name: 'db',
          when: 'labels.team == "db"',
          policyId: 'primary',
          templateId: null,
          severity: null,
          ticket: 'jira',
          suppress: false,
          continue: true,
        },
        {
          name: 'test',
          when: 'labels.env == "test"',
          policyId: null,
          templateId: null,
          severity: 'info',
          ticket: null,
          suppress: true,
          continue: false,
        },
      ],
    }),
    f.make('RoutingConfigured', { serviceId: 'payroll', escalationPolicyId: null, templateId: null, ackTimeoutSeconds: null, rules: [] }),
    f.make('RoutingRemoved', { serviceId: 'payroll' }),
    f.make('MaintenanceWindowConfigured', {
      windowId: 'fra1',
      name: 'fra1 upgrade',
      start: '2026-11-23T22:00:00Z',
      end: '2026-11-24T02:00:00Z',
      services: ['checkout'],
      labels: { site: 'fra1' },
      when: null,
      mode: 'suppress',
    }),
    f.make('MaintenanceWindowConfigured', {
      windowId: 'ams1',
      name: 'ams1 fibre',
      start: '2026-11-25T22:00:00Z',
      end: '2026-11-26T02:00:00Z',
      services: [],
      labels: {},
      when: 'labels.site == "ams1"',
      mode: 'annotate',
    }),
    f.make('MaintenanceWindowRemoved', { windowId: 'ams1' }),
    f.make('CalendarConfigured', {
      calendarId: 'business',
      name: 'Business hours',
      timeZone: 'Europe/Berlin',
      hours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' }],
      holidays: ['2026-12-25', '2026-12-26'],
    }),
    f.make('CalendarConfigured', {
      calendarId: 'gone',
      name: 'Gone',
      timeZone: 'UTC',
      hours: [{ days: ['sat'], from: '00:00', to: '00:00' }],
      holidays: [],
    }),
    f.make('CalendarRemoved', { calendarId: 'gone' }),
    f.make('TemplateVersionPublished', {
      templateId: 'default',
      version: 1,
      name: 'Default',
      description: 'first',
      channels: templateChannels,
      variables: { required: ['alert.summary'], optional: [] },
      createdBy: 'alice',
    }),
    f.make('TemplateVersionPublished', {
      templateId: 'default',
      version: 2,
      name: 'Default',
      description: 'second',
      channels: { ...templateChannels, voice: 'Alert: {{ alert.summary }}' },
      variables: { required: ['alert.summary'], optional: ['alert.details'] },
      createdBy: 'bob',
    }),
    // a second publication of version 1 changes no version row
    f.make('TemplateVersionPublished', {
      templateId: 'default',
      version: 1,
      name: 'Default (again)',
      description: 'republished',
      channels: templateChannels,
      variables: { required: [], optional: [] },
      createdBy: 'mallory',
    }),
    f.make('TemplateVersionPublished', {
      templateId: 'scratch',
      version: 1,
      name: 'Scratch',
      description: '',
      channels: templateChannels,
      variables: { required: [], optional: [] },
      createdBy: 'carol',
    }),
    f.make('TemplateRemoved', { templateId: 'scratch' }),
  ];
}

/** The subject of a configuration event. */
export function configSubjectOf(e: DomainEvent): string {
  const d = e.data as Record<string, unknown>;
  const pairs: Array<[string, string]> = [
    ['scheduleId', 'schedule'],
    ['policyId', 'policy'],
    ['windowId', 'maintenance'],
    ['calendarId', 'calendar'],
    ['templateId', 'template'],
    ['providerId', 'ticket-provider'],
  ];
  for (const [key, kind] of pairs) if (typeof d[key] === 'string') return `config.${kind}.${d[key]}`;
  if (e.type.startsWith('Routing')) return `config.routing.${d.serviceId as string}`;
  throw new Error(`not a configuration event: ${e.type}`);
}
