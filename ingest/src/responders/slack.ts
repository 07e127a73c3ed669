export { slackRoutes, type SlackDeps, type PressOutcome } from './slack/routes.js';
export { SlackUsers, configuredUserIds, slackIndex } from './slack/users.js';
export { OpenAlerts } from './slack/alerts.js';
export { resolutionOf } from './slack/history.js';
export { slackSignature, checkSlackSignature } from './slack/signature.js';
