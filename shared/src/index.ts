export { createLogger, type Logger } from './logger.js';
export { parseEnv, ConfigError, commonEnv, port, envDuration, envBytes, StreamLimitsEnv } from './env.js';
export { registry, serveMetrics } from './metrics.js';
export { createReadModelPool, withSearchPath } from './db.js';
export { connectNats, closeNats, ensureTopology, partitionCount, streamLimitsFromEnv, type Topology } from './nats.js';
export {
  startTracing,
  stopTracing,
  tracingOn,
  traceOf,
  traceIdOf,
  hopFrom,
  hopFromHttp,
  hopFromMessage,
  inHop,
  NO_HOP,
  type Hop,
  type TraceHeaders,
} from './tracing.js';
export { StreamAppender, AppendFailed, type AppendFailureReason, type AppendOptions, type Stored } from './append.js';
export { watchConfig, loadConfig, type ConfigView, type LastWriter } from './config-view.js';
export {
  evolveConfig,
  initialConfigState,
  templateVersionKey,
  type ConfigState,
  type ServiceConfig,
  type HeartbeatMonitor,
  type ApiToken,
} from './domain/config.js';
export { sha256Hex } from './hash.js';
export { apiTokenId, apiTokenHash, newApiToken, createApiToken, revokeApiToken, bearerToken, type NewApiToken } from './api-tokens.js';
export { systemClock, ManualClock, type Clock } from './clock.js';
export { holdLease, leaseBucket, LEASE_TTL_MS, type Lease, type LeaseOptions } from './lease.js';
export { TtlBucket } from './ttl-bucket.js';
export {
  userDirectory,
  fileUserDirectory,
  knownUsersIn,
  toContacts,
  UserDirectoryError,
  UserDirectoryUnavailable,
  UserDirectoryRejected,
  type UserDirectory,
  type DirectoryUser,
  type DirectoryLookup,
  type UserDirectoryOptions,
  type UserDirectoryErrorReason,
} from './users.js';
export {
  compileRule,
  ruleCache,
  routeAlert,
  applyEquipmentType,
  equipmentBoost,
  effectiveSeverity,
  severityMap,
  DEFAULT_EQUIPMENT_LABEL,
  activeWindows,
  ruleContext,
  inBusinessHours,
  inTimeWindows,
  isValidTimeZone,
  isValidDate,
  toZonedIso,
  RuleCompileError,
  RuleEvaluationError,
  type CompiledRule,
  type CalendarReference,
  type RouteDecision,
  type RouteInput,
  type RoutedAlert,
  type RuleContext,
  type RuleError,
  type RuleLookup,
  type LocalTimeResult,
  type SeverityBoost,
  type SeverityRoute,
} from './domain/routing.js';
export {
  onCallAt,
  rotationMemberAt,
  rotationActiveAt,
  nextChangeAfter,
  shifts,
  validateSchedule,
  ScheduleError,
  type OnCallUser,
  type RotationShift,
  type UserShift,
} from './domain/oncall.js';
export { backoffMs, DEFAULT_BACKOFF, type Backoff } from './backoff.js';
export {
  superviseLoop,
  consumeInHand,
  closeOnAbort,
  consumeOptions,
  LIVE_PULL,
  recreateConsumer,
  ensureConsumer,
  ackFloor,
  InOrderAcks,
  type LoopOptions,
  type InHandOptions,
  type Tracked,
} from './consumer.js';
export { Parking, serveParkedRetries, errorText, parkedDigest, type Parkable, type RetryRequest, type RetryAnswer } from './parking.js';
export { SnapshotStore, SNAPSHOT_BUCKET, type Snapshot, type SnapshotMeta, type SnapshotRecords } from './snapshots.js';
export { readExisting } from './read-existing.js';
export {
  AlertCommandPath,
  CommandNotAppended,
  type AlertCommandRequest,
  type CommandAnswer,
  type CommandTarget,
  type Declined,
} from './commands.js';
export {
  allocate as allocateReplyCode,
  lookup as lookupReplyCode,
  parseReply,
  phoneKey,
  replyInstructions,
  DEFAULT_REPLY_LIMITS,
  REPLY_LETTERS,
  VOICE_DIGITS,
  type ParsedReply,
  type ReplyAction,
  type ReplyBook,
  type ReplyCode,
  type ReplyLimits,
  type ReplyTarget,
  type SmsKeyword,
} from './domain/reply-codes.js';
export {
  ReplyCodes,
  SmsOptOuts,
  ReplyCodeError,
  NotAPhoneNumber,
  ReplyCodeContention,
  REPLY_CODE_BUCKET,
  SMS_OPT_OUT_BUCKET,
  type OptOut,
} from './reply-codes.js';
export { TWILIO_PATHS, statusCallbackUrl, readStatusRef, gatherUrl, providerStatusOf, type StatusRef } from './domain/twilio-callbacks.js';
export {
  actionSecretEnv,
  actionUrl,
  makeActionToken,
  verifyActionToken,
  ACTION_LINK_TTL_SECONDS,
  MIN_ACTION_SECRET_LENGTH,
  type ActionLink,
  type ActionLinkProblem,
  type VerifiedLink,
} from './action-link.js';
export { foldAlert, type AlertView, type AlertChange, type AlertStatusWord } from './domain/alert-view.js';
export {
  stormSense,
  placeAlert,
  siteWithin,
  inhibitorOf,
  flapVerdict,
  flappingConfigured,
  type StormSense,
  type InhibitSource,
  type InhibitTarget,
  type FlipHistory,
  type FlapVerdict,
} from './domain/storm-sense.js';
export {
  ContactVerifications,
  VerificationError,
  VERIFICATION_BUCKET,
  type ConfirmResult,
  type Refused as VerificationRefused,
} from './verification.js';
export {
  checkCode,
  codeHash,
  normalizeCode,
  refusalText,
  verificationText,
  verifiedByLog,
  withLogVerifications,
  VERIFIABLE_CHANNELS,
  VERIFICATION_MAX_ATTEMPTS,
  VERIFICATION_TTL_MS,
  type CheckRefusal,
  type CheckResult,
  type VerificationRequest,
} from './domain/verification.js';
export { compileTicketFields, TicketFieldError, type CompiledTicketFields, type TicketFieldInput } from './domain/ticket-fields.js';
export {
  standardWebhookSignature,
  standardWebhookHeaders,
  verifyStandardWebhook,
  SIGNATURE_TOLERANCE_SECONDS,
  type SignatureProblem,
} from './webhook-signature.js';
export { retryAfterMs } from './retry-after.js';
