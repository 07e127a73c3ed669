import { sql, type DatabaseTransactionConnection } from 'slonik';
import { CONSUMERS, STREAMS, subjects, type ConfigEvent, type EventOf } from '@oncall/contracts';
import { oneByOne, type Applied, type Projection } from './types.js';

/**
 * Configuration tables from the CONFIG stream, one event at a time in stream order (configuration
 * events are few: plain statements, all in the batch's transaction).
 *
 * Ordering: every aggregate is one subject (`config.<kind>.<id>`), so its events are in order; a
 * `…Configured` event replaces the aggregate whole (parent row upserted, child rows deleted and
 * inserted again, `position` = index in the event's list, from 0), a `…Removed` event deletes the
 * parent and its children go by cascade. Aggregates never reference each other with foreign
 * keys, so events of different aggregates commute. Template versions are immutable rows.
 */
export const configProjection: Projection = {
  name: CONSUMERS.projectorConfig,
  stream: STREAMS.config,
  filterSubject: subjects.configAll,
  applyMany: oneByOne(async (tx, event, at) => {
    const e = event as ConfigEvent;
    switch (e.type) {
      case 'ServiceConfigured':
        return serviceConfigured(tx, e, at);
      case 'ServiceRemoved':
        await tx.query(sql.unsafe`DELETE FROM services WHERE id = ${e.data.serviceId}`);
        return;
      case 'HeartbeatMonitorConfigured': {
        const d = e.data;
        await tx.query(sql.unsafe`
          INSERT INTO heartbeat_monitors (id, service_id, name, interval_seconds, last_event_seq)
          VALUES (${d.monitorId}, ${d.serviceId}, ${d.name}, ${d.intervalSeconds}, ${at.seq})
          ON CONFLICT (id) DO UPDATE SET service_id = EXCLUDED.service_id, name = EXCLUDED.name,
            interval_seconds = EXCLUDED.interval_seconds, last_event_seq = EXCLUDED.last_event_seq`);
        return;
      }
      case 'HeartbeatMonitorRemoved':
        await tx.query(sql.unsafe`DELETE FROM heartbeat_monitors WHERE id = ${e.data.monitorId}`);
        return;
      case 'ScheduleConfigured':
        return scheduleConfigured(tx, e, at);
      case 'ScheduleRemoved':
        await tx.query(sql.unsafe`DELETE FROM schedules WHERE id = ${e.data.scheduleId}`);
        return;
      case 'EscalationPolicyConfigured':
        return policyConfigured(tx, e, at);
      case 'EscalationPolicyRemoved':
        await tx.query(sql.unsafe`DELETE FROM escalation_policies WHERE id = ${e.data.policyId}`);
        return;
      case 'RoutingConfigured':
        return routingConfigured(tx, e, at);
      case 'RoutingRemoved':
        await tx.query(sql.unsafe`DELETE FROM routing WHERE service_id = ${e.data.serviceId}`);
        return;
      case 'MaintenanceWindowConfigured': {
        const d = e.data;
        await tx.query(sql.unsafe`
          INSERT INTO maintenance_windows (id, name, starts_at, ends_at, services, labels, condition, mode, configured_at, last_event_seq)
          VALUES (${d.windowId}, ${d.name}, ${d.start}, ${d.end}, ${sql.array(d.services, 'text')}, ${sql.jsonb(d.labels)}, ${d.when},
            ${d.mode}, ${e.occurredAt}, ${at.seq})
          ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at,
            services = EXCLUDED.services, labels = EXCLUDED.labels, condition = EXCLUDED.condition, mode = EXCLUDED.mode,
            configured_at = EXCLUDED.configured_at, last_event_seq = EXCLUDED.last_event_seq`);
        return;
      }
      case 'MaintenanceWindowRemoved':
        await tx.query(sql.unsafe`DELETE FROM maintenance_windows WHERE id = ${e.data.windowId}`);
        return;
      case 'CalendarConfigured': {
        const d = e.data;
        await tx.query(sql.unsafe`
          INSERT INTO calendars (id, name, time_zone, hours, holidays, configured_at, last_event_seq)
          VALUES (${d.calendarId}, ${d.name}, ${d.timeZone}, ${sql.jsonb(d.hours)}, ${sql.array(d.holidays, 'text')}, ${e.occurredAt}, ${at.seq})
          ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, time_zone = EXCLUDED.time_zone, hours = EXCLUDED.hours,
            holidays = EXCLUDED.holidays, configured_at = EXCLUDED.configured_at, last_event_seq = EXCLUDED.last_event_seq`);
        return;
      }
      case 'CalendarRemoved':
        await tx.query(sql.unsafe`DELETE FROM calendars WHERE id = ${e.data.calendarId}`);
        return;
      case 'TemplateVersionPublished':
        return templatePublished(tx, e, at);
      case 'TemplateRemoved':
        await tx.query(sql.unsafe`DELETE FROM templates WHERE id = ${e.data.templateId}`);
        return;
      case 'NotificationRulesConfigured':
      case 'NotificationRulesRemoved':
        // No read model yet: the escalator reads rules from the log (docs/notification-rules.md).
        return;
      case 'SiteRegistryConfigured':
      case 'InhibitRuleConfigured':
      case 'InhibitRuleRemoved':
      case 'CustomerTiersConfigured':
      case 'ResponseTiersConfigured':
        // The NOC model is read from the log by the escalator (docs/noc.md); its effects are on the alerts.
        return;
      case 'ContactVerificationRequested': {
        const d = e.data;
        await tx.query(sql.unsafe`
          INSERT INTO contact_verifications (user_id, channel, pending_request_id, pending_address, requested_at, expires_at, last_event_seq)
          VALUES (${d.userId}, ${d.channel}, ${d.requestId}, ${d.address}, ${e.occurredAt}, ${d.expiresAt}, ${at.seq})
          ON CONFLICT (user_id, channel) DO UPDATE SET pending_request_id = EXCLUDED.pending_request_id,
            pending_address = EXCLUDED.pending_address, requested_at = EXCLUDED.requested_at,
            expires_at = EXCLUDED.expires_at, last_event_seq = EXCLUDED.last_event_seq`);
        return;
      }
      case 'ContactMethodVerified': {
        const d = e.data;
        await tx.query(sql.unsafe`
          INSERT INTO contact_verifications (user_id, channel, verified_address, verified_at, verified_via, last_event_seq)
          VALUES (${d.userId}, ${d.channel}, ${d.address}, ${e.occurredAt}, ${d.via}, ${at.seq})
          ON CONFLICT (user_id, channel) DO UPDATE SET pending_request_id = NULL, pending_address = NULL,
            requested_at = NULL, expires_at = NULL, verified_address = EXCLUDED.verified_address,
            verified_at = EXCLUDED.verified_at, verified_via = EXCLUDED.verified_via, last_event_seq = EXCLUDED.last_event_seq`);
        return;
      }
      case 'DestinationRegistered':
        // No read model: SendNotification reads a destination from its subject (docs/query-api.md).
        return;
      case 'EquipmentTypesConfigured':
      case 'EquipmentTypesRemoved':
        // No read model yet: routing reads them from the log; what they did is on AlertRouted (severityBoost).
        return;
      case 'ApiTokenCreated':
      case 'ApiTokenRevoked':
        // No read model: query-api folds tokens from the log (`oncall token list` too).
        return;
      case 'TicketProviderConfigured':
      case 'TicketProviderRemoved':
        // The provider read model comes with the ticket read models (issue 18, core); the bridge folds them from the log.
        return;
      default: {
        const _never: never = e;
        return _never;
      }
    }
  }),
};

type Tx = DatabaseTransactionConnection;

async function serviceConfigured(tx: Tx, e: EventOf<'ServiceConfigured'>, at: Applied): Promise<void> {
  const d = e.data;
  await tx.query(sql.unsafe`
    INSERT INTO services (id, name, description, configured_at, last_event_seq)
    VALUES (${d.serviceId}, ${d.name}, ${d.description}, ${e.occurredAt}, ${at.seq})
    ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description,
      configured_at = EXCLUDED.configured_at, last_event_seq = EXCLUDED.last_event_seq`);
  await tx.query(sql.unsafe`DELETE FROM integration_keys WHERE service_id = ${d.serviceId}`);
  if (d.integrationKeys.length > 0) {
    await tx.query(sql.unsafe`
      INSERT INTO integration_keys (key_hash, service_id, name)
      SELECT * FROM ${sql.unnest(
        d.integrationKeys.map((k) => [k.keyHash, d.serviceId, k.name]),
        ['text', 'text', 'text'],
      )}`);
  }
}

/** Child rows as one JSON array, inserted with jsonb_to_recordset (arrays stay JSON arrays). */
const rows = (values: readonly object[]): string => JSON.stringify(values);

async function scheduleConfigured(tx: Tx, e: EventOf<'ScheduleConfigured'>, at: Applied): Promise<void> {
  const d = e.data;
  await tx.query(sql.unsafe`
    INSERT INTO schedules (id, name, time_zone, configured_at, last_event_seq)
    VALUES (${d.scheduleId}, ${d.name}, ${d.timeZone}, ${e.occurredAt}, ${at.seq})
    ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, time_zone = EXCLUDED.time_zone,
      configured_at = EXCLUDED.configured_at, last_event_seq = EXCLUDED.last_event_seq`);
  await tx.query(sql.unsafe`DELETE FROM schedule_rotations WHERE schedule_id = ${d.scheduleId}`);
  await tx.query(sql.unsafe`DELETE FROM schedule_overrides WHERE schedule_id = ${d.scheduleId}`);
  await tx.query(sql.unsafe`DELETE FROM schedule_temporary WHERE schedule_id = ${d.scheduleId}`);
  if (d.rotations.length > 0) {
    await tx.query(sql.unsafe`
      INSERT INTO schedule_rotations (schedule_id, position, rotation_id, name, type, shift_length, starts_at, members, restrictions)
      SELECT ${d.scheduleId}, r.ord - 1, r.v->>'id', r.v->>'name', r.v->>'type', (r.v->>'shiftLength')::integer, (r.v->>'start')::timestamptz,
        ARRAY(SELECT jsonb_array_elements_text(r.v->'members')), r.v->'restrictions'
      FROM jsonb_array_elements(${rows(d.rotations)}::jsonb) WITH ORDINALITY AS r(v, ord)`);
  }
  if (d.overrides.length > 0) {
    await tx.query(sql.unsafe`
      INSERT INTO schedule_overrides (schedule_id, position, kind, user_id, replaces, starts_at, ends_at)
      SELECT ${d.scheduleId}, o.ord - 1, o.v->>'kind', o.v->>'userId', o.v->>'replaces', (o.v->>'start')::timestamptz, (o.v->>'end')::timestamptz
      FROM jsonb_array_elements(${rows(d.overrides)}::jsonb) WITH ORDINALITY AS o(v, ord)`);
  }
  if (d.temporary.length > 0) {
    await tx.query(sql.unsafe`
      INSERT INTO schedule_temporary (schedule_id, position, starts_at, ends_at, users)
      SELECT ${d.scheduleId}, t.ord - 1, (t.v->>'start')::timestamptz, (t.v->>'end')::timestamptz, ARRAY(SELECT jsonb_array_elements_text(t.v->'users'))
      FROM jsonb_array_elements(${rows(d.temporary)}::jsonb) WITH ORDINALITY AS t(v, ord)`);
  }
}

async function policyConfigured(tx: Tx, e: EventOf<'EscalationPolicyConfigured'>, at: Applied): Promise<void> {
  const d = e.data;
  await tx.query(sql.unsafe`
    INSERT INTO escalation_policies (id, name, repeats, configured_at, last_event_seq)
    VALUES (${d.policyId}, ${d.name}, ${d.repeat}, ${e.occurredAt}, ${at.seq})
    ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, repeats = EXCLUDED.repeats,
      configured_at = EXCLUDED.configured_at, last_event_seq = EXCLUDED.last_event_seq`);
  await tx.query(sql.unsafe`DELETE FROM escalation_steps WHERE policy_id = ${d.policyId}`);
  await tx.query(sql.unsafe`
    INSERT INTO escalation_steps (policy_id, step, delay_seconds, until_all_ack, targets)
    SELECT ${d.policyId}, s.ord - 1, (s.v->>'delaySeconds')::integer, (s.v->>'untilAllAck')::boolean, s.v->'targets'
    FROM jsonb_array_elements(${rows(d.steps)}::jsonb) WITH ORDINALITY AS s(v, ord)`);
}

async function routingConfigured(tx: Tx, e: EventOf<'RoutingConfigured'>, at: Applied): Promise<void> {
  const d = e.data;
  await tx.query(sql.unsafe`
    INSERT INTO routing (service_id, escalation_policy_id, template_id, ack_timeout_seconds, configured_at, last_event_seq)
    VALUES (${d.serviceId}, ${d.escalationPolicyId}, ${d.templateId}, ${d.ackTimeoutSeconds}, ${e.occurredAt}, ${at.seq})
    ON CONFLICT (service_id) DO UPDATE SET escalation_policy_id = EXCLUDED.escalation_policy_id, template_id = EXCLUDED.template_id,
      ack_timeout_seconds = EXCLUDED.ack_timeout_seconds, configured_at = EXCLUDED.configured_at, last_event_seq = EXCLUDED.last_event_seq`);
  await tx.query(sql.unsafe`DELETE FROM routing_rules WHERE service_id = ${d.serviceId}`);
  if (d.rules.length > 0) {
    await tx.query(sql.unsafe`
      INSERT INTO routing_rules (service_id, position, name, condition, policy_id, template_id, severity, ticket_provider, suppress, continue_matching)
      SELECT ${d.serviceId}, r.ord - 1, r.v->>'name', r.v->>'when', r.v->>'policyId', r.v->>'templateId', r.v->>'severity', r.v->>'ticket',
        (r.v->>'suppress')::boolean, (r.v->>'continue')::boolean
      FROM jsonb_array_elements(${rows(d.rules)}::jsonb) WITH ORDINALITY AS r(v, ord)`);
  }
}

/**
 * Every version is a row that never changes (a second publication of a version number changes
 * nothing); `templates` follows the last publication, as the escalator's configuration does.
 */
async function templatePublished(tx: Tx, e: EventOf<'TemplateVersionPublished'>, at: Applied): Promise<void> {
  const d = e.data;
  await tx.query(sql.unsafe`
    INSERT INTO templates (id, name, description, latest_version, published_at, last_event_seq)
    VALUES (${d.templateId}, ${d.name}, ${d.description}, ${d.version}, ${e.occurredAt}, ${at.seq})
    ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description, latest_version = EXCLUDED.latest_version,
      published_at = EXCLUDED.published_at, last_event_seq = EXCLUDED.last_event_seq`);
  await tx.query(sql.unsafe`
    INSERT INTO template_versions (template_id, version, name, description, channels, required_variables, optional_variables, created_by,
      published_at, event_seq)
    VALUES (${d.templateId}, ${d.version}, ${d.name}, ${d.description}, ${sql.jsonb(d.channels)}, ${sql.array(d.variables.required, 'text')},
      ${sql.array(d.variables.optional, 'text')}, ${d.createdBy}, ${e.occurredAt}, ${at.seq})
    ON CONFLICT (template_id, version) DO NOTHING`);
}
