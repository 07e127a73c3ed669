export { migrate } from './migrate.js';
export { startNatsServer, findNatsServer, NatsServerMissingError, NATS_CONF, type RunningNats } from './nats-server.js';
export { startEmbeddedPostgres, ensureDatabase, type RunningPostgres } from './postgres.js';
export { parseConfigFile, readConfigFile, ConfigFile, ConfigFileError } from '@oncall/shared/config-file';
export { applyConfig, planApply, type PlannedEvent } from '@oncall/shared/config-file';
export { rebuildReadModels, progressPrinter, type RebuildResult } from './replay.js';
export { alertHistory } from './history.js';
export { up } from './up.js';
export { entryArgs } from './entry.js';
