import { readFile } from 'node:fs/promises';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';

/** `Europe/Berlin`, `America/Argentina/Buenos_Aires`, `UTC`, `Etc/GMT+1`; not offsets like `+01:00`. */
const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

/** Kept as written: canonicalising would turn links like `Asia/Calcutta` into other names. */
function isIanaZone(zone: string): boolean {
  if (!IANA_NAME.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const VERIFIABLE = ['email', 'slack', 'teams', 'sms', 'voice'] as const;
const VerifiableChannel = z.enum(VERIFIABLE, { errorMap: () => ({ message: `use one of ${VERIFIABLE.join(', ')}` }) });
export type VerifiableChannel = z.infer<typeof VerifiableChannel>;

/** The methods of a user not verified (empty when the file does not list `verified`). */
export function unverifiedChannels(u: UserRecord): VerifiableChannel[] {
  if (u.verified === undefined) return [];
  const has = {
    email: true,
    slack: u.slackId !== undefined,
    teams: u.teamsId !== undefined,
    sms: u.phone !== undefined && u.sms,
    voice: u.phone !== undefined && u.voice,
  };
  return VERIFIABLE.filter((c) => has[c] && !u.verified!.includes(c));
}

const UserEntry = z
  .object({
    id: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/,
        'use 1-128 letters, digits, dots, dashes, underscores or @, starting with a letter or digit',
      ),
    name: z.string().min(1).max(200),
    email: z.string().email(),
    timezone: z.string().refine(isIanaZone, 'not an IANA time zone (like Europe/Berlin or UTC)').default('UTC'),
    phone: z
      .string({ invalid_type_error: 'quote the number, like phone: "+15555550101"' })
      .regex(/^\+[1-9]\d{6,14}$/, 'use E.164: + then 7 to 15 digits, like +15555550101')
      .optional(),
    slackId: z
      .string()
      .regex(/^[UW][A-Z0-9]+$/, 'a Slack member id starts with U or W, like U024BE7LH')
      .optional(),
    teamsId: z.string().min(1).max(200).optional(),
    sms: z.boolean().optional(),
    voice: z.boolean().optional(),
    /**
     * The contact methods the user has verified. Absent: every method counts as verified (files
     * from before verification); present: the methods not listed are unverified.
     */
    verified: z.array(VerifiableChannel).optional(),
  })
  .strict()
  .superRefine((u, ctx) => {
    const has = {
      email: true,
      slack: u.slackId !== undefined,
      teams: u.teamsId !== undefined,
      sms: u.phone !== undefined,
      voice: u.phone !== undefined,
    };
    u.verified?.forEach((channel, i) => {
      if (!has[channel]) ctx.addIssue({ code: 'custom', path: ['verified', i], message: `the user has no ${channel} contact to verify` });
      if (u.verified!.indexOf(channel) !== i)
        ctx.addIssue({ code: 'custom', path: ['verified', i], message: `${channel} is listed twice` });
    });
    if (u.phone !== undefined) return;
    for (const channel of ['sms', 'voice'] as const) {
      if (u[channel]) ctx.addIssue({ code: 'custom', path: [channel], message: `${channel} needs a phone` });
    }
  })
  .transform((u) => ({ ...u, sms: u.sms ?? u.phone !== undefined, voice: u.voice ?? u.phone !== undefined }));

/** One user of the file, with defaults applied (`timezone` UTC, `sms`/`voice` true when there is a phone). */
export type UserRecord = z.infer<typeof UserEntry>;

/**
 * The users file that stands in for kneutral-api on the embedded default and in tests.
 * Unknown keys are errors; ids are unique.
 */
export const UsersFile = z
  .object({
    users: z
      .array(UserEntry)
      .nullish()
      .transform((u) => u ?? []),
  })
  .strict()
  .superRefine((file, ctx) => {
    const seen = new Map<string, number>();
    file.users.forEach((u, i) => {
      const first = seen.get(u.id);
      if (first !== undefined)
        ctx.addIssue({ code: 'custom', path: ['users', i, 'id'], message: `duplicate user id "${u.id}" (also users[${first}])` });
      else seen.set(u.id, i);
    });
  });
export type UsersFile = z.infer<typeof UsersFile>;

export class UsersFileError extends Error {
  override readonly name = 'UsersFileError';
}

/** Formats a path like `users[0].phone`. */
function formatPath(path: ReadonlyArray<string | number>): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '(root)';
}

/** Parses YAML text; every problem is reported as `<file>: <field>: <message>`, one per line. */
export function parseUsersFile(text: string, fileName: string): UsersFile {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` (line ${err.linePos[0].line}, column ${err.linePos[0].col})` : '';
    throw new UsersFileError(`${fileName}: not valid YAML${where}: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  const result = UsersFile.safeParse(raw);
  if (!result.success) {
    throw new UsersFileError(result.error.issues.map((i) => `${fileName}: ${formatPath(i.path)}: ${i.message}`).join('\n'));
  }
  return result.data;
}

export async function readUsersFile(path: string): Promise<UsersFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsersFileError(`${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  return parseUsersFile(text, path);
}
