export { startGrpcServer, type GrpcServerOptions } from './server.js';
export { loadQueryApiConfig, type QueryApiConfig } from './config.js';
export { toAlertList } from './alert-filter.js';
export { NEXT_PAGE_TOKEN } from './page-token.js';
export { openQueryApiDeps, type QueryApiDeps, type QueryApiDepsOptions } from './shared-deps.js';
export { startConsoleServer, type ConsoleServer, type ConsoleServerOptions } from './console/server.js';
export { traceUrlOf } from './console/trace-url.js';
