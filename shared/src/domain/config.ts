import type { ConfigEvent, EventData } from '@oncall/contracts';

/** The configuration as the log says it is now, folded from configuration events. */
export type ServiceConfig = EventData<'ServiceConfigured'>;

export type HeartbeatMonitor = EventData<'HeartbeatMonitorConfigured'>;

export type ConfigState = Readonly<{
  services: ReadonlyMap<string, ServiceConfig>;
  heartbeats: ReadonlyMap<string, HeartbeatMonitor>;
  /** SHA-256 of an integration key → service id. */
  serviceByKeyHash: ReadonlyMap<string, string>;
}>;

export const initialConfigState = (): ConfigState => ({ services: new Map(), heartbeats: new Map(), serviceByKeyHash: new Map() });

export function evolveConfig(state: ConfigState, event: ConfigEvent): ConfigState {
  switch (event.type) {
    case 'ServiceConfigured': {
      const services = new Map(state.services).set(event.data.serviceId, event.data);
      return { ...state, services, serviceByKeyHash: indexKeys(services) };
    }
    case 'ServiceRemoved': {
      const services = new Map(state.services);
      services.delete(event.data.serviceId);
      return { ...state, services, serviceByKeyHash: indexKeys(services) };
    }
    case 'HeartbeatMonitorConfigured':
      return { ...state, heartbeats: new Map(state.heartbeats).set(event.data.monitorId, event.data) };
    case 'HeartbeatMonitorRemoved': {
      const heartbeats = new Map(state.heartbeats);
      heartbeats.delete(event.data.monitorId);
      return { ...state, heartbeats };
    }
    default: {
      const _never: never = event;
      return _never;
    }
  }
}

function indexKeys(services: ReadonlyMap<string, ServiceConfig>): Map<string, string> {
  const byHash = new Map<string, string>();
  for (const s of services.values()) for (const k of s.integrationKeys) byHash.set(k.keyHash, s.serviceId);
  return byHash;
}
