import { Metadata, status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import type { alertingV1 } from '@oncall/contracts/grpc';
import { statusWord as word } from './alerts-client.js';
import { parseOrUsage, UsageError } from './cli-usage.js';
import { apiClient, call, isServiceError, notReached } from './grpc-client.js';
import { cliSettings, type Endpoint } from './settings.js';

/** The CLI's alert commands and the API command each one is. */
export const CLI_COMMANDS = { ack: 'acknowledge', resolve: 'resolve', escalate: 'escalate', snooze: 'snooze' } as const;
export type CliCommand = keyof typeof CLI_COMMANDS;

export type CommandArgs = Readonly<{
  command: CliCommand;
  alertId: string;
  userId: string;
  note: string;
  snoozeSeconds: number | null;
  grpc: Endpoint;
}>;

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** `30m`, `1h`, `2d`, `90s` → seconds. */
export function parseDuration(text: string): number | null {
  const m = DURATION.exec(text.trim());
  if (!m) return null;
  return Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS];
}

/**
 * Parses `oncall ack|resolve|escalate|snooze <alert-id> [--user U] [--note TEXT] [--for 30m]`.
 * Who acts is `--user`, else ONCALL_USER, else the user `ONCALL_API_TOKEN` is bound to (query-api
 * allows naming another user only to an admin token).
 */
export function parseCommandArgs(command: CliCommand, argv: string[], env: NodeJS.ProcessEnv): CommandArgs {
  const { values, positionals } = parseOrUsage(command, {
    args: argv,
    allowPositionals: true,
    options: {
      user: { type: 'string', short: 'u' },
      note: { type: 'string', short: 'n', default: '' },
      for: { type: 'string' },
      grpc: { type: 'string' },
    },
  });
  const [alertId, ...extra] = positionals;
  if (!alertId) throw new UsageError(`${command} needs an alert id: oncall ${command} <alert-id>`);
  if (extra.length > 0) throw new UsageError(`${command}: unexpected argument ${extra[0]}`);
  // Without --user or ONCALL_USER the token's own user acts (a token bound to a user); query-api
  // refuses an unbound token that names nobody (user_id is required).
  const named = values.user ?? env.ONCALL_USER;
  if (named !== undefined && named.trim() === '')
    throw new UsageError(`${command}: --user or ONCALL_USER is empty; give a user id, or leave both out to act as your token's user`);
  const userId = named ?? '';
  let snoozeSeconds: number | null = null;
  if (command === 'snooze') {
    if (values.for === undefined) throw new UsageError('snooze needs --for <duration>, e.g. --for 30m, 2h or 1d');
    snoozeSeconds = parseDuration(values.for);
    if (snoozeSeconds === null) throw new UsageError(`snooze --for: not a duration: ${values.for} (use e.g. 30m, 2h, 1d)`);
  } else if (values.for !== undefined) {
    throw new UsageError(`--for is for snooze only`);
  }
  return { command, alertId, userId: userId.trim(), note: values.note, snoozeSeconds, grpc: cliSettings(env, values.grpc).grpc };
}

export type CommandResult = Readonly<{ code: number; out: string; err: string }>;

/** What the command wants the alert to be, to tell "already so" from a change. */
const TARGET: Partial<Record<CliCommand, string>> = { ack: 'acknowledged', resolve: 'resolved' };

/** The answer in words: what happened to which alert, by whom, and the exit code. */
export function describeAnswer(args: CommandArgs, before: alertingV1.Alert, after: alertingV1.Alert, snoozedUntil?: Date): CommandResult {
  const head = `${after.id} ${JSON.stringify(after.summary)}`;
  const target = TARGET[args.command];
  const actor: Record<CliCommand, string> = {
    ack: after.acknowledgedByUserId,
    resolve: after.resolvedByUserId,
    escalate: after.escalatedByUserId,
    snooze: after.snoozedByUserId,
  };
  const who = args.userId || actor[args.command] || 'your token';
  if (target && word(before.status) === target) {
    const by = target === 'acknowledged' ? before.acknowledgedByUserId : before.resolvedByUserId;
    return { code: 0, out: `already ${target}${by ? ` by ${by}` : ''}; nothing changed: ${head}\n`, err: '' };
  }
  switch (args.command) {
    case 'ack':
      return { code: 0, out: `acknowledged by ${who}: ${head}\n`, err: '' };
    case 'resolve':
      return { code: 0, out: `resolved by ${who}: ${head}\n`, err: '' };
    case 'escalate':
      return { code: 0, out: `escalated by ${who}: ${head} (now ${word(after.status)})\n`, err: '' };
    case 'snooze':
      return {
        code: 0,
        out: `snoozed until ${(snoozedUntil ?? after.snoozedUntil)?.toISOString() ?? '?'} by ${who}: ${head}\n`,
        err: '',
      };
    default: {
      const _never: never = args.command;
      return _never;
    }
  }
}

/** A failed call in words, with the exit code: 1 for a refusal (closed, unknown), 2 for bad input. */
export function describeFailure(args: CommandArgs, err: ServiceError): CommandResult {
  switch (err.code) {
    case grpcStatus.NOT_FOUND:
      return { code: 1, out: '', err: `oncall: no alert ${args.alertId}\n` };
    case grpcStatus.FAILED_PRECONDITION:
      return { code: 1, out: '', err: `oncall: ${err.details}; nothing done\n` };
    case grpcStatus.INVALID_ARGUMENT:
      return { code: 2, out: '', err: `oncall: ${err.details}\n` };
    case grpcStatus.UNAUTHENTICATED:
      return {
        code: 1,
        out: '',
        err: `oncall: ${err.details}: set ONCALL_API_TOKEN (oncall up prints one; oncall token create makes more)\n`,
      };
    case grpcStatus.UNAVAILABLE:
      return {
        code: 1,
        out: '',
        err: `oncall: ${notReached(err, args.grpc)?.message ?? `query-api at ${args.grpc.address}: ${err.details}`}\n`,
      };
    case grpcStatus.DEADLINE_EXCEEDED:
      return { code: 1, out: '', err: `oncall: ${err.details}\n` };
    default:
      return { code: 1, out: '', err: `oncall: ${err.details || err.message}\n` };
  }
}

/** Runs the command through query-api's AlertService (apiClient: it says it comes from the CLI). */
export async function runAlertCommand(args: CommandArgs, timeoutMs = 15_000): Promise<CommandResult> {
  const api = apiClient(args.grpc);
  const client = api.alerts;
  const options = () => ({ deadline: Date.now() + timeoutMs });
  const base = { alertId: args.alertId, userId: args.userId, note: args.note, requestId: '' };
  try {
    const before = await call<alertingV1.Alert>((cb) => client.getAlert({ id: args.alertId }, new Metadata(), options(), cb));
    switch (args.command) {
      case 'ack': {
        const r = await call<alertingV1.AcknowledgeResponse>((cb) => client.acknowledgeAlert(base, new Metadata(), options(), cb));
        return describeAnswer(args, before, r.alert ?? before);
      }
      case 'resolve': {
        const r = await call<alertingV1.ResolveResponse>((cb) => client.resolveAlert(base, new Metadata(), options(), cb));
        return describeAnswer(args, before, r.alert ?? before);
      }
      case 'escalate': {
        const r = await call<alertingV1.EscalateResponse>((cb) => client.escalateAlert(base, new Metadata(), options(), cb));
        return describeAnswer(args, before, r.alert ?? before);
      }
      case 'snooze': {
        const duration = { seconds: args.snoozeSeconds ?? 0, nanos: 0 };
        const r = await call<alertingV1.SnoozeResponse>((cb) => client.snoozeAlert({ ...base, duration }, new Metadata(), options(), cb));
        return describeAnswer(args, before, r.alert ?? before, r.snoozedUntil);
      }
      default: {
        const _never: never = args.command;
        return _never;
      }
    }
  } catch (err) {
    if (isServiceError(err)) return describeFailure(args, err);
    throw err;
  } finally {
    api.close();
  }
}
