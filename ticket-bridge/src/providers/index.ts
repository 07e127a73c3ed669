import type { TicketProviderType } from '@oncall/contracts';
import { jiraProvider } from './jira/index.js';
import { opsgenieProvider } from './opsgenie/index.js';
import { salesforceProvider } from './salesforce/index.js';
import { serviceNowProvider } from './servicenow/index.js';
import type { TicketProvider } from './types.js';
import { webhookProvider } from './webhook/index.js';

/** The providers the bridge knows, by type (each in its own folder). */
export const PROVIDERS: Readonly<Partial<Record<TicketProviderType, TicketProvider>>> = {
  jira: jiraProvider,
  servicenow: serviceNowProvider,
  salesforce: salesforceProvider,
  opsgenie: opsgenieProvider,
  webhook: webhookProvider,
};

export { ProviderError, InboundRejected, type TicketProvider } from './types.js';
