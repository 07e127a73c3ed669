import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ContactChannel } from '@oncall/contracts';
import { toContacts, VERIFIABLE_CHANNELS, type ContactVerifications, type DirectoryUser, type UserDirectory } from '@oncall/shared';
import { readUsersFile } from './users-file.js';
import { toContactMethods } from './users-service.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export class ContactUsageError extends Error {
  override readonly name = 'ContactUsageError';
}

export type ContactArgs =
  | { action: 'verify'; userId: string; channel: ContactChannel }
  | { action: 'confirm'; userId: string; channel: ContactChannel; code: string };

/** `verify <user> <channel>` / `confirm <user> <channel> <code>` (after `contact`). */
export function parseContactArgs(args: readonly string[]): ContactArgs {
  const [action, userId, channelWord, code, ...extra] = args;
  if (action !== 'verify' && action !== 'confirm')
    throw new ContactUsageError('usage: oncall contact verify|confirm <user> <channel> [<code>]');
  if (!userId) throw new ContactUsageError('name the user');
  const channel = ContactChannel.safeParse(channelWord);
  if (!channel.success || !VERIFIABLE_CHANNELS.includes(channel.data))
    throw new ContactUsageError(`the channel must be one of ${VERIFIABLE_CHANNELS.join(', ')}`);
  if (action === 'verify') {
    if (code !== undefined) throw new ContactUsageError('verify takes a user and a channel');
    return { action, userId, channel: channel.data };
  }
  if (code === undefined || extra.length > 0) throw new ContactUsageError('confirm takes a user, a channel and the code');
  return { action, userId, channel: channel.data, code };
}

/** Where the CLI finds a user's contact methods: kneutral's UserService, else a users file. */
export type ContactSource = { directory: UserDirectory } | { usersFile: string };

export function contactSource(
  env: NodeJS.ProcessEnv,
  usersFlag: string | undefined,
  directory: (url: string) => UserDirectory,
): ContactSource {
  if (usersFlag) return { usersFile: usersFlag };
  if (env.USER_SERVICE_URL) return { directory: directory(env.USER_SERVICE_URL) };
  return { usersFile: env.USERS_FILE ?? resolve(REPO_ROOT, 'examples/users.yaml') };
}

async function findUser(source: ContactSource, userId: string): Promise<DirectoryUser | null> {
  if ('directory' in source) return (await source.directory.getUsers([userId])).users.get(userId) ?? null;
  const record = (await readUsersFile(source.usersFile)).users.find((u) => u.id === userId);
  return record
    ? { id: record.id, name: record.name, email: record.email, timezone: record.timezone, contacts: toContacts(toContactMethods(record)) }
    : null;
}

export type ContactOutcome = { exit: 0 | 1; text: string };

/**
 * Runs `oncall contact verify|confirm`: verify looks the method's address up and requests a code
 * (the dispatcher sends it); confirm checks the code and records the method as verified.
 */
export async function runContactCommand(
  args: ContactArgs,
  deps: { verifications: ContactVerifications; source: ContactSource; now: number },
): Promise<ContactOutcome> {
  if (args.action === 'verify') {
    const user = await findUser(deps.source, args.userId);
    if (user === null) return { exit: 1, text: `oncall: no user ${args.userId}` };
    const method = user.contacts.find((c) => c.channel === args.channel);
    if (!method) return { exit: 1, text: `oncall: ${args.userId} has no ${args.channel} contact method` };
    const request = await deps.verifications.request({
      userId: args.userId,
      channel: args.channel,
      address: method.address,
      now: deps.now,
    });
    return {
      exit: 0,
      text:
        `verification code requested for ${args.userId}'s ${args.channel} ${method.address}; the dispatcher sends it (expires ${request.expiresAt}); ` +
        `confirm with: oncall contact confirm ${args.userId} ${args.channel} <code>` +
        (args.channel === 'sms' ? ' (or reply the code to the Twilio number)' : ''),
    };
  }
  const result = await deps.verifications.confirm({
    userId: args.userId,
    channel: args.channel,
    code: args.code,
    via: 'cli',
    now: deps.now,
  });
  if (!result.ok) return { exit: 1, text: `oncall: ${result.message}` };
  return { exit: 0, text: `verified: ${args.userId}'s ${args.channel} ${result.verified.address}` };
}
