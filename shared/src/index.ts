export { createLogger, type Logger } from './logger.js';
export { parseEnv, ConfigError, commonEnv, port } from './env.js';
export { registry, serveMetrics } from './metrics.js';
export { createReadModelPool, withSearchPath } from './db.js';
export { connectNats, ensureTopology, type Topology } from './nats.js';
export { watchConfig, loadConfig, type ConfigView } from './config-view.js';
export { evolveConfig, initialConfigState, type ConfigState, type ServiceConfig, type HeartbeatMonitor } from './domain/config.js';
export { sha256Hex } from './hash.js';
export { batches } from './batches.js';
