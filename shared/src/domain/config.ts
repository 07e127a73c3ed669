import type { ConfigEvent, EventData } from '@oncall/contracts';

/** The configuration as the log says it is now, folded from configuration events. */
export type ServiceConfig = EventData<'ServiceConfigured'>;

export type ConfigState = Readonly<{
  services: ReadonlyMap<string, ServiceConfig>;
  /** SHA-256 of an integration key → service id. */
  serviceByKeyHash: ReadonlyMap<string, string>;
}>;

export const initialConfigState = (): ConfigState => ({ services: new Map(), serviceByKeyHash: new Map() });

export function evolveConfig(state: ConfigState, event: ConfigEvent): ConfigState {
  const services = new Map(state.services);
  switch (event.type) {
    case 'ServiceConfigured':
      services.set(event.data.serviceId, event.data);
      break;
    case 'ServiceRemoved':
      services.delete(event.data.serviceId);
      break;
    default: {
      const _never: never = event;
      return _never;
    }
  }
  return { services, serviceByKeyHash: indexKeys(services) };
}

function indexKeys(services: ReadonlyMap<string, ServiceConfig>): Map<string, string> {
  const byHash = new Map<string, string>();
  for (const s of services.values()) for (const k of s.integrationKeys) byHash.set(k.keyHash, s.serviceId);
  return byHash;
}
