import type { NatsConnection } from '@nats-io/transport-node';
import { ContactVerifications, ReplyCodes, SmsOptOuts, type StreamAppender } from '@oncall/shared';
import type { TwilioResponderDeps } from './twilio.js';

/** Opens the reply-code and opt-out buckets the Twilio routes read and write. */
export async function twilioDeps(
  nc: NatsConnection,
  authToken: string,
  appender: StreamAppender,
  partitions: number,
  replicas = 1,
): Promise<TwilioResponderDeps> {
  const [codes, optOuts, verifications] = await Promise.all([
    ReplyCodes.open(nc, { replicas }),
    SmsOptOuts.open(nc, { replicas }),
    ContactVerifications.open(nc, { replicas }),
  ]);
  return { authToken, codes, optOuts, verifications, appender, partitions };
}
