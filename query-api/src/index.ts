export { startGrpcServer, type GrpcServerOptions } from './server.js';
export { loadQueryApiConfig, type QueryApiConfig } from './config.js';
export { toFilter } from './alert-service.js';
