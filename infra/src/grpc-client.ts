import { credentials, InterceptingCall, status, type Interceptor, type ServiceError } from '@grpc/grpc-js';
import { alertingV1, ticketingV1 } from '@oncall/contracts/grpc';
import { Unreachable, type Endpoint } from './settings.js';

/** The query-api clients the CLI uses; close() when done. */
export type ApiClient = Readonly<{
  alerts: alertingV1.AlertServiceClient;
  escalations: alertingV1.EscalationServiceClient;
  ticketing: ticketingV1.TicketingServiceClient;
  endpoint: Endpoint;
  close: () => void;
}>;

/**
 * Every call says it comes from the CLI (`x-oncall-via: cli`), which query-api records on commands,
 * and carries `ONCALL_API_TOKEN` (printed by `oncall up`, or `oncall token create`) as its bearer token.
 */
const fromCli: Interceptor = (options, nextCall) =>
  new InterceptingCall(nextCall(options), {
    start: (metadata, listener, next) => {
      metadata.set('x-oncall-via', 'cli');
      const token = process.env.ONCALL_API_TOKEN;
      if (token) metadata.set('authorization', `Bearer ${token}`);
      next(metadata, listener);
    },
  });

/** The one place the CLI makes its gRPC clients of query-api at `endpoint` (what every call carries is set here). */
export function apiClient(endpoint: Endpoint): ApiClient {
  const options = { interceptors: [fromCli] };
  const alerts = new alertingV1.AlertServiceClient(endpoint.address, credentials.createInsecure(), options);
  const escalations = new alertingV1.EscalationServiceClient(endpoint.address, credentials.createInsecure(), options);
  const ticketing = new ticketingV1.TicketingServiceClient(endpoint.address, credentials.createInsecure(), options);
  return {
    alerts,
    escalations,
    ticketing,
    endpoint,
    close: () => {
      alerts.close();
      escalations.close();
      ticketing.close();
    },
  };
}

/** A unary call as a promise. */
export const call = <Res>(fn: (cb: (err: ServiceError | null, res: Res) => void) => unknown): Promise<Res> =>
  new Promise((resolve, reject) => fn((err, res) => (err ? reject(err) : resolve(res))));

export const isServiceError = (err: unknown): err is ServiceError =>
  err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number';

const NOT_CONNECTED = /No connection established|Name resolution failed|Failed to connect|Connection dropped/;

/**
 * An UNAVAILABLE that means the CLI never reached query-api (nothing listens there, no such host)
 * as an Unreachable naming the address and the setting; undefined for any other failure.
 */
export function notReached(err: ServiceError, endpoint: Endpoint): Unreachable | undefined {
  if (err.code !== status.UNAVAILABLE || !NOT_CONNECTED.test(err.details)) return undefined;
  const reason = /Last error: (?:Error: )?(.*?)(?:\. Resolution note.*)?$/.exec(err.details)?.[1] ?? err.details;
  return new Unreachable('query-api', endpoint, reason, { cause: err });
}
