import type { ContactChannel } from '@oncall/contracts';
import { InvalidArgument } from '../errors.js';

/** The proto's ChannelType numbers (notification.v1) as the dispatcher's channels; PUSH has no notifier. */
const CHANNELS: ReadonlyMap<number, ContactChannel> = new Map([
  [1, 'slack'],
  [2, 'teams'],
  [3, 'email'],
  [4, 'sms'],
  [5, 'voice'],
  [7, 'webhook'],
]);
export const CHANNEL_TYPES: ReadonlyMap<ContactChannel, number> = new Map([...CHANNELS].map(([n, c]) => [c, n]));

const PUSH = 6;
const MAX_ADDRESS = 2048;
const E164 = /^\+[1-9]\d{6,14}$/;
/** Slack conversation ids: channels (C), private channels (G), users (U, W), direct messages (D). */
const SLACK_ID = /^[CGUWD][A-Z0-9]{6,20}$/;
const EMAIL =
  /^[^\s@<>()[\]\\,;:"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
/** A Teams chat id, or `team:<teamId>/channel:<channelId>` (the dispatcher's Teams notifier). */
const TEAMS = /^(?:team:[^/\s?#%]+\/channel:[^/\s?#%]+|(?!team:)[^/\s?#%]+)$/;
const OWNER = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$/;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** A ChannelType the dispatcher can send on; throws InvalidArgument naming `field`. */
export function channelOf(field: string, channel: number): ContactChannel {
  if (channel === PUSH) throw new InvalidArgument(field, 'CHANNEL_PUSH has no sender here; use slack, teams, email, sms, voice or webhook');
  const c = CHANNELS.get(channel);
  if (!c)
    throw new InvalidArgument(field, 'must be CHANNEL_SLACK, CHANNEL_TEAMS, CHANNEL_EMAIL, CHANNEL_SMS, CHANNEL_VOICE or CHANNEL_WEBHOOK');
  return c;
}

/** The owner of a registered destination: a user id or a team name such as `noc`. */
export function ownerOf(field: string, owner: string): string {
  if (owner === '') throw new InvalidArgument(field, 'is required');
  if (!OWNER.test(owner)) throw new InvalidArgument(field, 'must be 1-128 letters, digits, and . _ @ - (a user id or a team name)');
  return owner;
}

/**
 * An address the channel can send to; throws InvalidArgument naming `field`. Webhooks must be
 * https (http only to this machine: tests, a local relay) and carry no credentials in the URL.
 */
export function addressOf(field: string, channel: ContactChannel, address: string): string {
  if (address.trim() === '') throw new InvalidArgument(field, 'is required');
  if (address.length > MAX_ADDRESS) throw new InvalidArgument(field, `must be at most ${MAX_ADDRESS} characters`);
  switch (channel) {
    case 'sms':
    case 'voice':
      if (!E164.test(address)) throw new InvalidArgument(field, 'must be a phone number in E.164 form, e.g. +4915112345678');
      return address;
    case 'email':
      if (address.length > 254 || !EMAIL.test(address)) throw new InvalidArgument(field, 'must be an e-mail address, e.g. noc@example.com');
      return address;
    case 'slack':
      if (!SLACK_ID.test(address)) throw new InvalidArgument(field, 'must be a Slack channel or user id, e.g. C0123ABCD (not a #name)');
      return address;
    case 'teams':
      if (!TEAMS.test(address)) throw new InvalidArgument(field, 'must be a Teams chat id or team:<teamId>/channel:<channelId>');
      return address;
    case 'webhook':
      return webhookUrl(field, address);
    default: {
      const _never: never = channel;
      return _never;
    }
  }
}

function webhookUrl(field: string, address: string): string {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new InvalidArgument(field, 'must be an absolute https URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname)))
    throw new InvalidArgument(field, 'must be an https URL (http only to localhost)');
  if (url.username !== '' || url.password !== '') throw new InvalidArgument(field, 'must not carry credentials in the URL');
  return address;
}
