import { describe, expect, it } from 'vitest';
import { alertingV1, notificationV1, ticketingV1 } from '@oncall/contracts/grpc';
import { METHOD_RULES } from './scopes.js';

/** Every method of every service generated from the protos. */
const PROTO_METHODS: readonly string[] = [
  alertingV1.AlertServiceService,
  alertingV1.ScheduleServiceService,
  alertingV1.EscalationServiceService,
  alertingV1.TicketIntegrationServiceService,
  notificationV1.NotificationServiceService,
  notificationV1.TemplateServiceService,
  ticketingV1.TicketingServiceService,
].flatMap((service) => Object.values(service).map((m: { path: string }) => m.path));

describe('the method → scope table', () => {
  it('covers every method of the protos, and nothing else', () => {
    expect(Object.keys(METHOD_RULES).sort()).toEqual([...PROTO_METHODS].sort());
  });

  it('names actor fields the request types have', () => {
    const requests: Record<string, object> = {
      '/alerting.v1.AlertService/CreateAlert': alertingV1.CreateAlertRequest.fromPartial({}),
      '/alerting.v1.AlertService/UpdateAlertStatus': alertingV1.UpdateStatusRequest.fromPartial({}),
      '/alerting.v1.AlertService/AcknowledgeAlert': alertingV1.AcknowledgeRequest.fromPartial({}),
      '/alerting.v1.AlertService/ResolveAlert': alertingV1.ResolveRequest.fromPartial({}),
      '/alerting.v1.AlertService/EscalateAlert': alertingV1.EscalateRequest.fromPartial({}),
      '/alerting.v1.AlertService/SnoozeAlert': alertingV1.SnoozeRequest.fromPartial({}),
      '/alerting.v1.ScheduleService/CreateOverride': alertingV1.CreateOverrideRequest.fromPartial({}),
      '/notification.v1.NotificationService/RegisterDestination': notificationV1.RegisterDestinationRequest.fromPartial({}),
      '/notification.v1.TemplateService/CreateTemplate': notificationV1.CreateTemplateRequest.fromPartial({}),
      '/notification.v1.TemplateService/UpdateTemplate': notificationV1.UpdateTemplateRequest.fromPartial({}),
      '/alerting.v1.TicketIntegrationService/CreateTicketFromAlert': alertingV1.CreateTicketRequest.fromPartial({}),
      '/alerting.v1.TicketIntegrationService/LinkAlertToTicket': alertingV1.LinkRequest.fromPartial({}),
      '/ticketing.v1.TicketingService/CreateTicket': ticketingV1.CreateTicketRequest.fromPartial({}),
      '/ticketing.v1.TicketingService/LinkAlertToTicket': ticketingV1.LinkRequest.fromPartial({}),
    };
    const withActor = Object.entries(METHOD_RULES).filter(([, rule]) => rule.actor !== undefined);
    expect(withActor.map(([path]) => path).sort()).toEqual(Object.keys(requests).sort());
    for (const [path, rule] of withActor) expect(requests[path], path).toHaveProperty(rule.actor!, '');
  });
});
