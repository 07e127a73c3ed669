import type { ConfigEvent, CustomerTier, EventData, InhibitRule, ResponseTier, SiteRegistry } from '@oncall/contracts';
import { contactKey } from './verification.js';

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
export type Destination = EventData<'DestinationRegistered'>;
export type TicketProviderConfig = EventData<'TicketProviderConfigured'>;
/** An API token as the log says it is now; a revoked token stays, marked, so a refusal can say why. */
export type ApiToken = EventData<'ApiTokenCreated'> & Readonly<{ revoked: boolean }>;

export type ConfigState = Readonly<{
  services: ReadonlyMap<string, ServiceConfig>;
  heartbeats: ReadonlyMap<string, HeartbeatMonitor>;
  /** SHA-256 of an integration key → service id. */
  serviceByKeyHash: ReadonlyMap<string, string>;
  /** SHA-256 of an integration key → the instant (ISO) it stops working; keys without an end are absent. */
  keyNotAfter: ReadonlyMap<string, string>;
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
  /** The NOC model (docs/noc.md): site registry, inhibit rules by id, customer tiers by id (and the label naming them), response tiers by id. */
  sites: SiteRegistry | null;
  inhibitRules: ReadonlyMap<string, InhibitRule>;
  customerTiers: Readonly<{ label: string; tiers: ReadonlyMap<string, CustomerTier> }> | null;
  responseTiers: ReadonlyMap<string, ResponseTier>;
  /** Contact methods verified through the log (ContactMethodVerified), per user: `<channel> <address>` (domain/verification.ts). */
  verifiedContacts: ReadonlyMap<string, ReadonlySet<string>>;
  /** Severity by equipment type, applied before routing rules; null = none configured. */
  equipmentTypes: EquipmentTypes | null;
  /** Registered destinations by `destinationKey(owner, channel)` (DestinationRegistered). */
  destinations: ReadonlyMap<string, Destination>;
  /** API tokens of the gRPC API by token id, revoked ones included. */
  apiTokens: ReadonlyMap<string, ApiToken>;
  /** Ticket providers by provider id (docs/tickets.md). */
  ticketProviders: ReadonlyMap<string, TicketProviderConfig>;
}>;

export const destinationKey = (ownerId: string, channel: string): string => `${ownerId}\n${channel}`;

export const templateVersionKey = (templateId: string, version: number): string => `${templateId}@${version}`;

export const initialConfigState = (): ConfigState => ({
  services: new Map(),
  heartbeats: new Map(),
  serviceByKeyHash: new Map(),
  keyNotAfter: new Map(),
  schedules: new Map(),
  policies: new Map(),
  routing: new Map(),
  maintenance: new Map(),
  calendars: new Map(),
  templates: new Map(),
  templateVersions: new Map(),
  notificationRules: new Map(),
  sites: null,
  inhibitRules: new Map(),
  customerTiers: null,
  responseTiers: new Map(),
  verifiedContacts: new Map(),
  equipmentTypes: null,
  destinations: new Map(),
  apiTokens: new Map(),
  ticketProviders: new Map(),
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
      return { ...state, services, ...indexKeys(services) };
    }
    case 'ServiceRemoved': {
      const services = without(state.services, event.data.serviceId);
      return { ...state, services, ...indexKeys(services) };
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
    case 'SiteRegistryConfigured':
      return { ...state, sites: event.data };
    case 'InhibitRuleConfigured':
      return { ...state, inhibitRules: put(state.inhibitRules, event.data.ruleId, event.data) };
    case 'InhibitRuleRemoved':
      return { ...state, inhibitRules: without(state.inhibitRules, event.data.ruleId) };
    case 'CustomerTiersConfigured':
      return { ...state, customerTiers: { label: event.data.label, tiers: new Map(event.data.tiers.map((t) => [t.tierId, t])) } };
    case 'ResponseTiersConfigured':
      return { ...state, responseTiers: new Map(event.data.tiers.map((t) => [t.tierId, t])) };
    case 'ContactVerificationRequested':
      // Pending codes are read from the method's subject when confirming; the state keeps only the outcome.
      return state;
    case 'ContactMethodVerified': {
      const { userId, channel, address } = event.data;
      const key = contactKey(channel, address);
      const had = state.verifiedContacts.get(userId);
      if (had?.has(key)) return state;
      return { ...state, verifiedContacts: put(state.verifiedContacts, userId, new Set(had).add(key)) };
    }
    case 'EquipmentTypesConfigured':
      return { ...state, equipmentTypes: event.data };
    case 'EquipmentTypesRemoved':
      return { ...state, equipmentTypes: null };
    case 'DestinationRegistered':
      return { ...state, destinations: put(state.destinations, destinationKey(event.data.ownerId, event.data.channel), event.data) };
    case 'ApiTokenCreated':
      return { ...state, apiTokens: put(state.apiTokens, event.data.tokenId, { ...event.data, revoked: false }) };
    case 'ApiTokenRevoked': {
      const token = state.apiTokens.get(event.data.tokenId);
      return token ? { ...state, apiTokens: put(state.apiTokens, token.tokenId, { ...token, revoked: true }) } : state;
    }
    case 'TicketProviderConfigured':
      return { ...state, ticketProviders: put(state.ticketProviders, event.data.providerId, event.data) };
    case 'TicketProviderRemoved':
      return { ...state, ticketProviders: without(state.ticketProviders, event.data.providerId) };
    default: {
      const _never: never = event;
      return _never;
    }
  }
}

function indexKeys(services: ReadonlyMap<string, ServiceConfig>): Pick<ConfigState, 'serviceByKeyHash' | 'keyNotAfter'> {
  const serviceByKeyHash = new Map<string, string>();
  const keyNotAfter = new Map<string, string>();
  for (const s of services.values())
    for (const k of s.integrationKeys) {
      serviceByKeyHash.set(k.keyHash, s.serviceId);
      if (k.notAfter !== undefined) keyNotAfter.set(k.keyHash, k.notAfter);
    }
  return { serviceByKeyHash, keyNotAfter };
}
