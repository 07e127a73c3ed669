import { Counter, Gauge, Histogram } from 'prom-client';
import { registry } from '@oncall/shared';

/** The ticket bridge's metrics (`oncall_ticket_bridge_*`). */

export const providerCalls = new Counter({
  name: 'oncall_ticket_bridge_provider_calls_total',
  help: 'Calls to ticket providers, by provider, operation (find, create, update, check, poll) and outcome (ok, retry, failed)',
  labelNames: ['provider', 'operation', 'outcome'],
  registers: [registry],
});

export const providerCallSeconds = new Histogram({
  name: 'oncall_ticket_bridge_provider_call_seconds',
  help: 'Duration of calls to ticket providers',
  labelNames: ['provider', 'operation'],
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const ticketsCreated = new Counter({
  name: 'oncall_ticket_bridge_tickets_created_total',
  help: 'Tickets the bridge recorded as created, by provider and whether a lookup found an earlier attempt',
  labelNames: ['provider', 'found'],
  registers: [registry],
});

export const inboundCalls = new Counter({
  name: 'oncall_ticket_bridge_inbound_total',
  help: 'Inbound provider calls, by provider and HTTP status answered',
  labelNames: ['provider', 'status'],
  registers: [registry],
});

export const providerHealthy = new Gauge({
  name: 'oncall_ticket_bridge_provider_healthy',
  help: '1 when the provider is configured and usable (secrets resolve, last call not refused for credentials), else 0',
  labelNames: ['provider'],
  registers: [registry],
});

export const queueDeferred = new Counter({
  name: 'oncall_ticket_bridge_deferred_total',
  help: 'Work handed back to JetStream (nak) for later, by provider and why: lane-full (more held than allowed), rate-limited, claimed-elsewhere, ticket-being-created, stopping',
  labelNames: ['provider', 'why'],
  registers: [registry],
});

export const rateLimited = new Counter({
  name: 'oncall_ticket_bridge_rate_limited_total',
  help: 'Provider answers 429 (rate limited), by provider and operation: each pauses the provider lane until Retry-After',
  labelNames: ['provider', 'operation'],
  registers: [registry],
});

export const held = new Gauge({
  name: 'oncall_ticket_bridge_held',
  help: 'Messages held in hand waiting for their provider lane (full or paused after a 429), by provider and work (create, update)',
  labelNames: ['provider', 'work'],
  registers: [registry],
});
