import type { NatsConnection } from '@nats-io/transport-node';
import { ReplyCodes, SmsOptOuts, type ReplyTarget } from '@oncall/shared';
import type { PhoneBook } from '../pipeline/index.js';

/** The phone stage's PhoneBook on the KV buckets `oncall-reply-codes` and `oncall-sms-opt-outs`. */
export async function openPhoneBook(nc: NatsConnection, replicas: number): Promise<PhoneBook> {
  const [codes, optOuts] = await Promise.all([ReplyCodes.open(nc, { replicas }), SmsOptOuts.open(nc, { replicas })]);
  return {
    optedOut: async (number: string) => (await optOuts.get(number)) !== null,
    allocate: (to: string, target: ReplyTarget, now: number) => codes.allocate(to, target, now),
  };
}
