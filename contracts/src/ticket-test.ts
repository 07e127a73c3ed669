import { z } from 'zod';

/**
 * TestProvider (docs/tickets.md#api): query-api asks the ticket bridge, by NATS request on this
 * subject, to check a provider (credentials, reachability) and, with an alert, to map its fields.
 * Plain JSON both ways; no answer within 5 s means the bridge is not running.
 */
export const TICKET_TEST_SUBJECT = 'oncall.tickets.test';

export const TicketTestRequest = z.object({ providerId: z.string(), alertId: z.string().uuid().nullable() }).strict();
export type TicketTestRequest = z.infer<typeof TicketTestRequest>;

export const TicketTestReply = z.object({
  ok: z.boolean(),
  error: z.string().nullable(),
  /** The provider fields the alert maps to; null without an alert (or when mapping failed: see `error`). */
  fields: z.record(z.string(), z.unknown()).nullable(),
  /** How long the provider's check took; null when it was not reached (unknown or unusable provider, fields that do not map). */
  latencyMs: z.number().nonnegative().nullable(),
});
export type TicketTestReply = z.infer<typeof TicketTestReply>;
