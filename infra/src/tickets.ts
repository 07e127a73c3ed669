import { ticketingV1 } from '@oncall/contracts/grpc';
import { parseOrUsage, UsageError } from './cli-usage.js';
import { call, type ApiClient } from './grpc-client.js';

/**
 * `oncall ticket preview|providers|show` through query-api's TicketingService: what a provider
 * would get for an alert (TestProvider, answered by the ticket bridge), the providers with their
 * health, and an alert's ticket.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type TicketArgs =
  | Readonly<{ kind: 'preview'; providerId: string; alertId: string; json: boolean; grpc: string | undefined }>
  | Readonly<{ kind: 'providers'; json: boolean; grpc: string | undefined }>
  | Readonly<{ kind: 'show'; alertId: string; providerId: string; json: boolean; grpc: string | undefined }>;

export function parseTicketArgs(args: readonly string[]): TicketArgs {
  const [sub, ...rest] = args;
  const command = `ticket ${sub ?? ''}`.trim();
  const { values, positionals } = parseOrUsage(command, {
    args: rest,
    allowPositionals: true,
    options: {
      alert: { type: 'string', short: 'a' },
      provider: { type: 'string', short: 'p' },
      json: { type: 'boolean', default: false },
      grpc: { type: 'string' },
    },
  });
  const alertId = (value: string | undefined, what: string): string => {
    if (value === undefined) return '';
    if (!UUID.test(value)) throw new UsageError(`${command}: ${what} must be an alert id (a UUID), not "${value}"`);
    return value.toLowerCase();
  };
  const common = { json: values.json ?? false, grpc: values.grpc };
  switch (sub) {
    case 'preview': {
      const [providerId, extra] = positionals;
      if (providerId === undefined || extra !== undefined)
        throw new UsageError('ticket preview: give one provider id, e.g. oncall ticket preview jira --alert <alert-id>');
      if (values.provider !== undefined) throw new UsageError('ticket preview: the provider is the argument, not --provider');
      return { kind: 'preview', providerId, alertId: alertId(values.alert, '--alert'), ...common };
    }
    case 'providers':
      if (positionals.length > 0 || values.alert !== undefined || values.provider !== undefined)
        throw new UsageError('ticket providers: takes no arguments but --json and --grpc');
      return { kind: 'providers', ...common };
    case 'show': {
      const [id, extra] = positionals;
      if (id === undefined || extra !== undefined) throw new UsageError('ticket show: give one alert id');
      return { kind: 'show', alertId: alertId(id, 'the argument'), providerId: values.provider ?? '', ...common };
    }
    default:
      throw new UsageError(`ticket: use preview, providers or show; oncall ticket --help`);
  }
}

const when = (d: Date | undefined): string => (d ? d.toISOString() : '-');

/** TestProvider's answer: the check's outcome, then the mapped fields as indented JSON. */
export function formatPreview(providerId: string, r: ticketingV1.TestResult): string {
  const took = r.latencyMs ? ` (${r.latencyMs} ms)` : '';
  const head = r.ok ? `${providerId}: ok${took}` : `${providerId}: failed${took}: ${r.error}`;
  const fields = r.fieldsJson === '' ? '' : `${JSON.stringify(JSON.parse(r.fieldsJson), null, 2)}\n`;
  return `${head}\n${fields}`;
}

export function formatProviders(list: readonly ticketingV1.Provider[]): string {
  if (list.length === 0) return 'no ticket providers configured (ticketProviders in the configuration file)\n';
  const rows = list.map((p) => [
    p.providerId,
    p.type,
    p.health?.status ?? 'unknown',
    when(p.health?.lastSuccessAt),
    when(p.health?.lastFailureAt),
    `${p.health?.failed ?? 0}/${p.health?.retrying ?? 0}`,
    p.health?.lastError ?? '',
  ]);
  const all = [['PROVIDER', 'TYPE', 'HEALTH', 'LAST SUCCESS', 'LAST FAILURE', 'FAILED/RETRYING', 'LAST ERROR'], ...rows];
  const widths = all[0]!.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return `${all
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

export function formatTicket(t: ticketingV1.Ticket): string {
  const lines = [
    `ticket:   ${t.ticketId || '(not created yet)'}`,
    `provider: ${t.providerId} (${t.providerType || '?'})`,
    `status:   ${t.status}${t.state ? ` (${t.state})` : ''}${t.linked ? ', linked by a person' : ''}`,
    ...(t.url ? [`url:      ${t.url}`] : []),
    ...(t.syncStatus ? [`sync:     ${t.syncStatus}${t.attempts > 0 ? `, ${t.attempts} attempts` : ''}`] : []),
    ...(t.lastError ? [`error:    ${t.lastError}${t.retryAt ? ` (retry at ${t.retryAt.toISOString()})` : ''}`] : []),
  ];
  return `${lines.join('\n')}\n`;
}

/** Runs a ticket command; the exit code: 0, or 1 when a preview's check failed. */
export async function runTicketCommand(api: ApiClient, args: TicketArgs, out: (text: string) => void): Promise<number> {
  const json = (message: unknown) => out(`${JSON.stringify(message)}\n`);
  switch (args.kind) {
    case 'preview': {
      const r = await call<ticketingV1.TestResult>((cb) =>
        api.ticketing.testProvider({ providerId: args.providerId, alertId: args.alertId }, cb),
      );
      if (args.json) json(ticketingV1.TestResult.toJSON(r));
      else out(formatPreview(args.providerId, r));
      return r.ok ? 0 : 1;
    }
    case 'providers': {
      const { providers } = await call<ticketingV1.ProviderList>((cb) => api.ticketing.listProviders({}, cb));
      if (args.json) for (const p of providers) json(ticketingV1.Provider.toJSON(p));
      else out(formatProviders(providers));
      return 0;
    }
    case 'show': {
      const t = await call<ticketingV1.Ticket>((cb) =>
        api.ticketing.getTicket({ ticketId: '', alertId: args.alertId, providerId: args.providerId }, cb),
      );
      if (args.json) json(ticketingV1.Ticket.toJSON(t));
      else out(formatTicket(t));
      return 0;
    }
  }
}
