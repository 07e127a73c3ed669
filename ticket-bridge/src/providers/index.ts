import type { TicketProviderType } from '@oncall/contracts';
import type { TicketProvider } from './types.js';
import { webhookProvider } from './webhook/index.js';

/** The providers the bridge knows, by type (each in its own folder). */
export const PROVIDERS: Readonly<Partial<Record<TicketProviderType, TicketProvider>>> = {
  webhook: webhookProvider,
};

export { ProviderError, InboundRejected, type TicketProvider } from './types.js';
