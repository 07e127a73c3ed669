import type { MethodRule } from '../domain/auth.js';

const read: MethodRule = { scope: 'read' };
const respond = (actor?: string): MethodRule => (actor ? { scope: 'respond', actor } : { scope: 'respond' });
const write = (actor?: string): MethodRule => (actor ? { scope: 'write', actor } : { scope: 'write' });

/**
 * The scope every method needs, and the request field naming the acting user (camelCase, as the
 * generated types name it). One entry per method of every service of the protos: a method missing
 * here is refused (PERMISSION_DENIED), and a unit test fails (auth/scopes.test.ts).
 * The health service is open; reflection, when enabled, too.
 */
export const METHOD_RULES: Readonly<Record<string, MethodRule>> = {
  '/alerting.v1.AlertService/CreateAlert': respond('createdByUserId'),
  '/alerting.v1.AlertService/GetAlert': read,
  '/alerting.v1.AlertService/ListAlerts': read,
  '/alerting.v1.AlertService/UpdateAlertStatus': respond('userId'),
  '/alerting.v1.AlertService/GetAlertTimeline': read,
  '/alerting.v1.AlertService/AcknowledgeAlert': respond('userId'),
  '/alerting.v1.AlertService/ResolveAlert': respond('userId'),
  '/alerting.v1.AlertService/EscalateAlert': respond('userId'),
  '/alerting.v1.AlertService/SnoozeAlert': respond('userId'),
  '/alerting.v1.AlertService/ListIncidents': read,
  '/alerting.v1.AlertService/GetIncident': read,
  '/alerting.v1.AlertService/GetIncidentTimeline': read,

  '/alerting.v1.ScheduleService/CreateSchedule': write(),
  '/alerting.v1.ScheduleService/GetSchedule': read,
  '/alerting.v1.ScheduleService/UpdateSchedule': write(),
  '/alerting.v1.ScheduleService/DeleteSchedule': write(),
  '/alerting.v1.ScheduleService/ListSchedules': read,
  '/alerting.v1.ScheduleService/GetOnCallUsers': read,
  '/alerting.v1.ScheduleService/CreateOverride': write('createdByUserId'),
  '/alerting.v1.ScheduleService/DeleteOverride': write(),
  '/alerting.v1.ScheduleService/AddRotation': write(),
  '/alerting.v1.ScheduleService/UpdateRotation': write(),
  '/alerting.v1.ScheduleService/RemoveRotation': write(),

  '/alerting.v1.EscalationService/CreateEscalationPolicy': write(),
  '/alerting.v1.EscalationService/GetEscalationPolicy': read,
  '/alerting.v1.EscalationService/UpdateEscalationPolicy': write(),
  '/alerting.v1.EscalationService/DeleteEscalationPolicy': write(),
  '/alerting.v1.EscalationService/ListEscalationPolicies': read,
  '/alerting.v1.EscalationService/GetEscalationState': read,

  // Tickets: reads need read; asking for, linking and updating tickets respond, as alert commands do (docs/tickets.md#api).
  '/alerting.v1.TicketIntegrationService/CreateTicketFromAlert': respond('userId'),
  '/alerting.v1.TicketIntegrationService/GetTicketStatus': read,
  '/alerting.v1.TicketIntegrationService/SyncTicketStatus': respond(),
  '/alerting.v1.TicketIntegrationService/LinkAlertToTicket': respond('userId'),

  '/ticketing.v1.TicketingService/CreateTicket': respond('userId'),
  '/ticketing.v1.TicketingService/UpdateTicket': respond(),
  '/ticketing.v1.TicketingService/GetTicket': read,
  '/ticketing.v1.TicketingService/LinkAlertToTicket': respond('userId'),
  '/ticketing.v1.TicketingService/SyncStatus': respond(),
  '/ticketing.v1.TicketingService/ListProviders': read,
  '/ticketing.v1.TicketingService/TestProvider': read,

  '/notification.v1.NotificationService/SendNotification': write(),
  '/notification.v1.NotificationService/GetDeliveryStatus': read,
  '/notification.v1.NotificationService/StreamDeliveryStatus': read,
  '/notification.v1.NotificationService/RegisterDestination': write('userId'),

  '/notification.v1.TemplateService/CreateTemplate': write('createdByUserId'),
  '/notification.v1.TemplateService/GetTemplate': read,
  '/notification.v1.TemplateService/UpdateTemplate': write('updatedByUserId'),
  '/notification.v1.TemplateService/DeleteTemplate': write(),
  '/notification.v1.TemplateService/ListTemplates': read,
  '/notification.v1.TemplateService/GetTemplateVersion': read,
  '/notification.v1.TemplateService/ListTemplateVersions': read,
  '/notification.v1.TemplateService/RenderPreview': read,
  '/notification.v1.TemplateService/ValidateTemplate': read,
};

/** Services anyone may call without a token. */
export const OPEN_SERVICES: readonly string[] = [
  '/grpc.health.v1.Health/',
  '/grpc.reflection.v1.ServerReflection/',
  '/grpc.reflection.v1alpha.ServerReflection/',
];
