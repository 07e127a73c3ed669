export type {
  ChannelMessages,
  EmailMessage,
  Notifier,
  Notifiers,
  NotifyOptions,
  NotifyResult,
  SlackMessage,
  SmsMessage,
  TeamsMessage,
  VoiceMessage,
  WebhookMessage,
} from './types.js';
export { classifyHttpStatus, DELIVERY_REASONS, DeliveryError, redact, type Classification, type DeliveryReason } from './errors.js';
export { slackNotifier, type SlackNotifierConfig } from './slack.js';
export { staticTokenProvider, teamsNotifier, type TeamsNotifierConfig } from './teams.js';
export { twilioNotifiers, type TwilioConfig } from './twilio.js';
export { emailNotifier, parseSmtpUrl, type EmailConfig } from './email.js';
export { standardWebhookSignature, webhookNotifier, type WebhookConfig } from './webhook.js';
export { clientCredentialsTokens, DEFAULT_AUTHORITY_URL, GRAPH_SCOPE, type ClientCredentials, type TokenSource } from './graph-token.js';
