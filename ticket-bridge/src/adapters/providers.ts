import { readFileSync } from 'node:fs';
import type { SecretRef, TicketProvider as TicketProviderConfig } from '@oncall/contracts';
import { compileTicketFields, type CompiledTicketFields, type ConfigView, type Logger } from '@oncall/shared';
import { PROVIDERS } from '../providers/index.js';
import { ProviderError, type ProviderContext, type TicketProvider } from '../providers/types.js';
import { providerHealthy } from './metrics.js';

/** A configured provider, ready to call: its implementation, compiled fields and context. */
export type Configured = Readonly<{
  config: TicketProviderConfig;
  provider: TicketProvider;
  fields: CompiledTicketFields;
  ctx: ProviderContext;
}>;

/**
 * Why a configured provider cannot be used; shown in logs, the metric and TestProvider.
 * `retryable`: a missing secret (someone sets it); a wrong configuration is not (it changes by a new configuration).
 */
export type Unusable = Readonly<{ providerId: string; error: string; retryable: boolean }>;

/** A secret the configuration names is not there: retryable (someone sets it), and the provider is unhealthy meanwhile. */
export class SecretMissing extends ProviderError {
  override readonly name = 'SecretMissing';
  constructor(message: string) {
    super(message, true);
  }
}

/** A secret reference resolved now (env or file); throws SecretMissing naming the reference, never the value. */
export function resolveSecret(ref: SecretRef, env: NodeJS.ProcessEnv = process.env): string {
  if ('env' in ref) {
    const v = env[ref.env];
    if (v === undefined || v === '') throw new SecretMissing(`secret environment variable ${ref.env} is not set`);
    return v;
  }
  try {
    return readFileSync(ref.file, 'utf8').trim();
  } catch (err) {
    throw new SecretMissing(`secret file ${ref.file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

const secretRefsOf = (c: TicketProviderConfig): SecretRef[] => {
  const refs: SecretRef[] = [];
  const a = c.auth;
  if (a.kind === 'basic') refs.push(a.password);
  if (a.kind === 'bearer') refs.push(a.token);
  if (a.kind === 'genie-key') refs.push(a.key);
  if (a.kind === 'oauth-client-credentials') refs.push(a.clientSecret);
  if (a.kind === 'oauth-jwt-bearer') refs.push(a.privateKey);
  if (c.inboundSecret !== null) refs.push(c.inboundSecret);
  return refs;
};

/**
 * The providers of the configuration (TicketProviderConfigured on `config.ticket-provider.<id>`),
 * built again when their configuration changes. A provider whose type is unknown, whose settings
 * or fields are wrong, or whose secrets are missing is logged once with the reason and marked
 * unhealthy; the others work on.
 */
export class ConfiguredProviders {
  private built = new Map<string, { source: TicketProviderConfig; result: Configured | Unusable }>();

  constructor(
    private readonly config: ConfigView,
    private readonly opts: {
      fetch: typeof fetch;
      timeoutMs: number;
      now: () => Date;
      log: Logger;
      registry?: Readonly<Partial<Record<TicketProviderConfig['type'], TicketProvider>>>;
    },
  ) {}

  /** The provider, or why it cannot be used; undefined when no provider of that id is configured. */
  get(providerId: string): Configured | Unusable | undefined {
    const source = this.config.state().ticketProviders.get(providerId);
    if (!source) return undefined;
    const had = this.built.get(providerId);
    if (had?.source === source) return had.result;
    const result = this.build(source);
    this.built.set(providerId, { source, result });
    if ('error' in result) {
      providerHealthy.set({ provider: providerId }, 0);
      this.opts.log.error({ providerId, type: source.type, problem: result.error }, `ticket provider ${providerId} cannot be used`);
    } else providerHealthy.set({ provider: providerId }, 1);
    return result;
  }

  /** Every configured provider id. */
  ids(): string[] {
    return [...this.config.state().ticketProviders.keys()];
  }

  /** A call failed because of a secret or credentials: the metric shows it until a call succeeds. */
  markHealth(providerId: string, healthy: boolean): void {
    providerHealthy.set({ provider: providerId }, healthy ? 1 : 0);
  }

  private build(config: TicketProviderConfig): Configured | Unusable {
    const { providerId } = config;
    const provider = (this.opts.registry ?? PROVIDERS)[config.type];
    if (!provider) return { providerId, error: `provider type ${config.type} is not available in this build`, retryable: false };
    const problems = provider.validateConfig(config);
    if (problems.length > 0) return { providerId, error: problems.map((p) => `${p.path}: ${p.message}`).join('; '), retryable: false };
    const missing = provider.requiredFields.filter((f) => !(f in config.fields));
    if (missing.length > 0) return { providerId, error: `fields ${missing.join(', ')} are required by ${config.type}`, retryable: false };
    let fields: CompiledTicketFields;
    try {
      fields = compileTicketFields(config.fields);
    } catch (err) {
      return { providerId, error: (err as Error).message, retryable: false };
    }
    try {
      for (const ref of secretRefsOf(config)) resolveSecret(ref);
    } catch (err) {
      return { providerId, error: (err as Error).message, retryable: true };
    }
    const { timeoutMs } = this.opts;
    const ctx: ProviderContext = {
      config,
      secret: (ref) => resolveSecret(ref),
      fetch: (input, init) => {
        const timeout = AbortSignal.timeout(timeoutMs);
        return this.opts.fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([timeout, init.signal]) : timeout });
      },
      now: this.opts.now,
    };
    return { config, provider, fields, ctx };
  }
}
