import type { ConfigEvent, EventData } from '@oncall/contracts';

/** The configuration as the log says it is now, folded from configuration events. */
export type ServiceConfig = EventData<'ServiceConfigured'>;
export type HeartbeatMonitor = EventData<'HeartbeatMonitorConfigured'>;
export type Schedule = EventData<'ScheduleConfigured'>;
export type EscalationPolicy = EventData<'EscalationPolicyConfigured'>;
export type Routing = EventData<'RoutingConfigured'>;
export type MaintenanceWindow = EventData<'MaintenanceWindowConfigured'>;
export type Calendar = EventData<'CalendarConfigured'>;
export type TemplateVersion = EventData<'TemplateVersionPublished'>;
export type UserNotificationRules = EventData<'NotificationRulesConfigured'>;
export type EquipmentTypes = EventData<'EquipmentTypesConfigured'>;

export type ConfigState = Readonly<{
  services: ReadonlyMap<string, ServiceConfig>;
  heartbeats: ReadonlyMap<string, HeartbeatMonitor>;
  /** SHA-256 of an integration key → service id. */
  serviceByKeyHash: ReadonlyMap<string, string>;
  schedules: ReadonlyMap<string, Schedule>;
  policies: ReadonlyMap<string, EscalationPolicy>;
  /** Routing by service id. */
  routing: ReadonlyMap<string, Routing>;
  maintenance: ReadonlyMap<string, MaintenanceWindow>;
  calendars: ReadonlyMap<string, Calendar>;
  /** Latest published version of each template. */
  templates: ReadonlyMap<string, TemplateVersion>;
  /** Every published version, by `templateVersionKey`: notifications name the version they use. */
  templateVersions: ReadonlyMap<string, TemplateVersion>;
  /** Notification rules by user id (users without an entry are paged on every method at once). */
  notificationRules: ReadonlyMap<string, UserNotificationRules>;
  /** Severity by equipment type, applied before routing rules; null = none configured. */
  equipmentTypes: EquipmentTypes | null;
}>;

export const templateVersionKey = (templateId: string, version: number): string => `${templateId}@${version}`;

export const initialConfigState = (): ConfigState => ({
  services: new Map(),
  heartbeats: new Map(),
  serviceByKeyHash: new Map(),
  schedules: new Map(),
  policies: new Map(),
  routing: new Map(),
  maintenance: new Map(),
  calendars: new Map(),
  templates: new Map(),
  templateVersions: new Map(),
  notificationRules: new Map(),
  equipmentTypes: null,
});

const put = <V>(map: ReadonlyMap<string, V>, key: string, value: V): Map<string, V> => new Map(map).set(key, value);
const without = <V>(map: ReadonlyMap<string, V>, key: string): Map<string, V> => {
  const next = new Map(map);
  next.delete(key);
  return next;
};

export function evolveConfig(state: ConfigState, event: ConfigEvent): ConfigState {
  switch (event.type) {
    case 'ServiceConfigured': {
      const services = put(state.services, event.data.serviceId, event.data);
      return { ...state, services, serviceByKeyHash: indexKeys(services) };
    }
    case 'ServiceRemoved': {
      const services = without(state.services, event.data.serviceId);
      return { ...state, services, serviceByKeyHash: indexKeys(services) };
    }
    case 'HeartbeatMonitorConfigured':
      return { ...state, heartbeats: put(state.heartbeats, event.data.monitorId, event.data) };
    case 'HeartbeatMonitorRemoved':
      return { ...state, heartbeats: without(state.heartbeats, event.data.monitorId) };
    case 'ScheduleConfigured':
      return { ...state, schedules: put(state.schedules, event.data.scheduleId, event.data) };
    case 'ScheduleRemoved':
      return { ...state, schedules: without(state.schedules, event.data.scheduleId) };
    case 'EscalationPolicyConfigured':
      return { ...state, policies: put(state.policies, event.data.policyId, event.data) };
    case 'EscalationPolicyRemoved':
      return { ...state, policies: without(state.policies, event.data.policyId) };
    case 'RoutingConfigured':
      return { ...state, routing: put(state.routing, event.data.serviceId, event.data) };
    case 'RoutingRemoved':
      return { ...state, routing: without(state.routing, event.data.serviceId) };
    case 'MaintenanceWindowConfigured':
      return { ...state, maintenance: put(state.maintenance, event.data.windowId, event.data) };
    case 'MaintenanceWindowRemoved':
      return { ...state, maintenance: without(state.maintenance, event.data.windowId) };
    case 'CalendarConfigured':
      return { ...state, calendars: put(state.calendars, event.data.calendarId, event.data) };
    case 'CalendarRemoved':
      return { ...state, calendars: without(state.calendars, event.data.calendarId) };
    case 'TemplateVersionPublished':
      return {
        ...state,
        templates: put(state.templates, event.data.templateId, event.data),
        templateVersions: put(state.templateVersions, templateVersionKey(event.data.templateId, event.data.version), event.data),
      };
    case 'TemplateRemoved':
      return { ...state, templates: without(state.templates, event.data.templateId) };
    case 'NotificationRulesConfigured':
      return { ...state, notificationRules: put(state.notificationRules, event.data.userId, event.data) };
    case 'NotificationRulesRemoved':
      return { ...state, notificationRules: without(state.notificationRules, event.data.userId) };
    case 'EquipmentTypesConfigured':
      return { ...state, equipmentTypes: event.data };
    case 'EquipmentTypesRemoved':
      return { ...state, equipmentTypes: null };
    default: {
      const _never: never = event;
      return _never;
    }
  }
}

function indexKeys(services: ReadonlyMap<string, ServiceConfig>): Map<string, string> {
  const byHash = new Map<string, string>();
  for (const s of services.values()) for (const k of s.integrationKeys) byHash.set(k.keyHash, s.serviceId);
  return byHash;
}
