import { z } from 'zod';
import { commonEnv, parseEnv, port } from '@oncall/shared';

const path = z.string().min(1).optional();

export const QueryApiConfig = z
  .object({
    DATABASE_URL: commonEnv.DATABASE_URL,
    READ_MODEL_SCHEMA: commonEnv.READ_MODEL_SCHEMA,
    NATS_URL: commonEnv.NATS_URL,
    ONCALL_PARTITIONS: commonEnv.ONCALL_PARTITIONS,
    ONCALL_REPLICAS: commonEnv.ONCALL_REPLICAS,
    GRPC_PORT: port(50051),
    /** Loopback by default; `0.0.0.0` (or an interface's address) opens the API to the network. */
    GRPC_HOST: z.string().min(1).default('127.0.0.1'),
    /** gRPC reflection (grpcurl without the protos); off unless `true`. */
    GRPC_REFLECTION: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
    /** PEM files: TLS with GRPC_TLS_CERT and GRPC_TLS_KEY; mTLS when GRPC_TLS_CLIENT_CA is set too. */
    GRPC_TLS_CERT: path,
    GRPC_TLS_KEY: path,
    GRPC_TLS_CLIENT_CA: path,
    /** Failed authentications per client address per minute before it is refused unchecked. */
    GRPC_AUTH_MAX_FAILURES: z.coerce.number().int().min(1).default(20),
    METRICS_PORT: port(9105),
    /** kneutral-api's UserService (`host:port`): alert commands and configuration writes refuse a user it does not know. Unset: not checked. */
    USER_SERVICE_URL: z.string().min(1).optional(),
    /** Longest an alert command waits for its outcome to show in the read model. */
    COMMAND_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
    /** The NOC console's HTTP server (docs/console.md); 0 picks a free port. */
    CONSOLE_PORT: port(8090),
    /** Loopback by default, as GRPC_HOST. */
    CONSOLE_HOST: z.string().min(1).default('127.0.0.1'),
    /** The built console (`npm run build:console`); default `console/dist` of this repository. */
    CONSOLE_DIST: path,
    /** The console's address as people reach it (behind a proxy): state-changing requests must come from its origin too. */
    ONCALL_CONSOLE_URL: z.string().url().optional(),
    /** A tracing UI's link to one trace, `{traceId}` replaced (e.g. Jaeger's `http://jaeger:16686/trace/{traceId}`). */
    ONCALL_TRACE_URL: z.string().url().optional(),
  })
  .superRefine((c, ctx) => {
    if ((c.GRPC_TLS_CERT === undefined) !== (c.GRPC_TLS_KEY === undefined))
      ctx.addIssue({ code: 'custom', path: ['GRPC_TLS_CERT'], message: 'GRPC_TLS_CERT and GRPC_TLS_KEY go together' });
    if (c.GRPC_TLS_CLIENT_CA !== undefined && c.GRPC_TLS_CERT === undefined)
      ctx.addIssue({ code: 'custom', path: ['GRPC_TLS_CLIENT_CA'], message: 'mTLS needs GRPC_TLS_CERT and GRPC_TLS_KEY too' });
  });
export type QueryApiConfig = z.infer<typeof QueryApiConfig>;
export const loadQueryApiConfig = (env?: NodeJS.ProcessEnv) => parseEnv(QueryApiConfig, env);
