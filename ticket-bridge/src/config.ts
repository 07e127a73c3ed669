import { hostname } from 'node:os';
import { z } from 'zod';
import { commonEnv, parseEnv, port } from '@oncall/shared';

/** The ticket bridge's environment, parsed once (every problem reported together). */
export const TicketBridgeConfig = z.object({
  NATS_URL: commonEnv.NATS_URL,
  ONCALL_PARTITIONS: commonEnv.ONCALL_PARTITIONS,
  ONCALL_REPLICAS: commonEnv.ONCALL_REPLICAS,
  METRICS_PORT: port(9107),
  /** Inbound provider callbacks: `POST /api/v1/tickets/<providerId>/events`. */
  TICKET_BRIDGE_PORT: port(8093),
  /** Loopback unless told otherwise (providers reach it through a proxy or with 0.0.0.0). */
  TICKET_BRIDGE_HOST: z.string().default('127.0.0.1'),
  TICKET_BRIDGE_ID: z.string().min(1).default(`${hostname()}:${process.pid}:ticket-bridge`),
  /** Where the links in tickets point (the alert's page). */
  ONCALL_PUBLIC_URL: z.string().url().optional(),
  /** One provider call's timeout. */
  TICKET_PROVIDER_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** Calls in flight per provider; more wait (up to the queue limit) or come back later. */
  TICKET_PROVIDER_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(4),
  /** A message whose process died comes back after this long; a claim goes stale after twice it (or 3 provider timeouts). */
  TICKET_BRIDGE_ACK_WAIT_MS: z.coerce.number().int().min(500).default(30_000),
  /** Attempts of one create or update before it is recorded as failed for good. */
  TICKET_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
});
export type TicketBridgeConfig = z.infer<typeof TicketBridgeConfig>;

export const loadTicketBridgeConfig = (env: NodeJS.ProcessEnv = process.env): TicketBridgeConfig => parseEnv(TicketBridgeConfig, env);
