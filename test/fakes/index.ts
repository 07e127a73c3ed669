/**
 * Local protocol fakes of the notification providers, for integration and end-to-end tests and
 * benchmarks. Each starts on 127.0.0.1 and a free port; the caller closes it.
 */
export { FailurePlan, Recorder, type HttpFailure, type RecordedRequest } from './http.js';
export { startSlackFake, type SlackCall, type SlackFailure, type SlackFake, type SlackFakeOptions } from './slack.js';
export { startGraphFake, type GraphCall, type GraphFake, type GraphFakeOptions, type TokenRequest } from './graph.js';
export {
  startTwilioFake,
  twilioSignature,
  type InboundAnswer,
  type Signing,
  type TwilioCall,
  type TwilioFailure,
  type TwilioFake,
  type TwilioFakeOptions,
} from './twilio.js';
export { startSmtpFake, type SmtpFailure, type SmtpFake, type SmtpFakeOptions, type SmtpMessage } from './smtp.js';
export { startWebhookFake, type WebhookFake, type WebhookFakeOptions } from './webhook.js';
