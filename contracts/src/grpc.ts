/**
 * The gRPC contracts (ts-proto output, which loads @grpc/grpc-js): apart from the main barrel, so
 * that domain code and the services that serve no gRPC do not load gRPC by importing an event type.
 */
export * as alertingV1 from './gen/alerting/v1/alerting.js';
export * as notificationV1 from './gen/notification/v1/notification.js';
export * as userV1 from './gen/kneutral/user/v1/user.js';
export * as ticketingV1 from './gen/ticketing/v1/ticketing.js';
export { descriptorSetPath } from './descriptor.js';
