export * from './events.js';
export * from './subjects.js';
export * from './streams.js';
export * as alertingV1 from './gen/alerting/v1/alerting.js';
export * as notificationV1 from './gen/notification/v1/notification.js';
export * as userV1 from './gen/kneutral/user/v1/user.js';
export { descriptorSetPath } from './descriptor.js';
export * from './text.js';
export * from './slack-actions.js';
