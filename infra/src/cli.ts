import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import {
  ContactVerifications,
  closeNats,
  connectNats,
  createLogger,
  commonEnv,
  ensureTopology,
  parseEnv,
  userDirectory,
  type Logger,
  type UserDirectory,
} from '@oncall/shared';
import { z } from 'zod';
import { ConfigFileError, readAndCheckConfigFile, type ConfigCheckOptions } from '@oncall/shared/config-file';
import { validateTemplate } from '@oncall/shared/config-file';
import { readUsersFile } from './users-file.js';
import { applyConfig, subjectOf } from '@oncall/shared/config-file';
import { migrate } from './migrate.js';
import { progressPrinter, rebuildReadModels } from './replay.js';
import { up, UpInterrupted, type Running } from './up.js';
import { listAlertsOverGrpc } from './alerts-client.js';
import { CommandUsageError, isCliCommand, parseCommandArgs, runAlertCommand } from './alert-commands.js';
import { alertHistory, archivedHistory } from './history.js';
import { contactSource, ContactUsageError, parseContactArgs, runContactCommand, type ContactArgs } from './contact.js';
import { formatParked, isSettled, listParked, retryParked } from './parked.js';
import { runTokenCommand, TokenUsageError, TOKEN_USAGE } from './token.js';

const USAGE = `usage: oncall <command>

  up                     start the whole pipeline (embedded NATS + PostgreSQL unless NATS_URL / DATABASE_URL are set)
  apply -f <file.yaml> [--users <users.yaml>] [--prune]
                         check the file (shapes, references, CEL rules, time zones, users) and append what changed:
                         services, heartbeats, calendars, templates, schedules, escalation policies, routing,
                         maintenance windows, notification rules, equipment types. Users are checked against --users, else USER_SERVICE_URL, else not
                         (with a warning). Any problem: every one is printed and nothing is appended.
                         --prune also removes what the file no longer lists
  replay                 rebuild the read models from sequence 1 into a fresh schema while the live one serves, then switch over
  alerts [--grpc host:port] [--status triggered|acknowledged|resolved]
                         list alerts through query-api's gRPC AlertService, one JSON line each
  ack|resolve|escalate|snooze <alert-id> [--user <id>] [--note <text>] [--for 30m|2h|1d] [--grpc host:port]
                         act on an alert through query-api's gRPC AlertService (recorded as via cli). Who acts:
                         --user, else ONCALL_USER (the CLI names the user until API tokens exist). snooze needs --for.
                         Exit 0: done or already so; 1: the alert is resolved or unknown, or query-api failed; 2: bad input
  ${TOKEN_USAGE.trimEnd().replace(/\n/g, '\n  ')}
  history <alertId> [--as-of <ISO time>]
                         the alert's events read from the log itself (one JSON line each), optionally as of a time
  parked [--all] [--json]
                         messages a consumer could not apply and parked (read from the log): where, why, retries;
                         --all also lists those a retry applied
  parked retry <consumer> <seq> | parked retry --all
                         ask the running consumer to take a parked message again (e.g. after an upgrade)
  contact verify <user> <channel> [--users <users.yaml>]
                         send a verification code to the user's sms, voice, email, slack or teams method (the
                         dispatcher sends it; the console channel prints it). The address comes from
                         --users, else USER_SERVICE_URL, else USERS_FILE, else examples/users.yaml
  contact confirm <user> <channel> <code>
                         confirm the code (10 minutes, 5 tries); the method then counts as verified
                         (ONCALL_REQUIRE_VERIFIED). An SMS method is also confirmed by replying the code
  migrate                bring the read-model schema up to date
`;

const CliEnv = z.object({
  NATS_URL: commonEnv.NATS_URL,
  DATABASE_URL: commonEnv.DATABASE_URL,
  READ_MODEL_SCHEMA: commonEnv.READ_MODEL_SCHEMA,
  ONCALL_PARTITIONS: commonEnv.ONCALL_PARTITIONS,
  ONCALL_REPLICAS: commonEnv.ONCALL_REPLICAS,
});

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const log = createLogger(`oncall-${command ?? 'cli'}`);
  switch (command) {
    case 'up':
      return runUp(log);
    case 'apply': {
      const { values } = parseArgs({
        args: rest,
        options: { file: { type: 'string', short: 'f' }, prune: { type: 'boolean', default: false }, users: { type: 'string' } },
      });
      if (!values.file) throw new UsageError('apply needs -f <file.yaml>');
      const users = await userSource(values.users, process.env.USER_SERVICE_URL);
      let checked;
      try {
        checked = await readAndCheckConfigFile(values.file, users.options);
      } catch (err) {
        if (!(err instanceof ConfigFileError)) throw err;
        process.stderr.write(
          `${err.message}\noncall: ${err.problems.length} problem${err.problems.length === 1 ? '' : 's'} in ${values.file}; nothing applied\n`,
        );
        return 1;
      } finally {
        users.close();
      }
      for (const warning of checked.warnings) process.stderr.write(`warning: ${warning}\n`);
      const env = parseEnv(CliEnv);
      const nc = await connectNats(env.NATS_URL, 'oncall-apply', log);
      try {
        await ensureTopology(nc, { partitions: env.ONCALL_PARTITIONS, replicas: env.ONCALL_REPLICAS }, log);
        const applied = await applyConfig(nc, checked.file, {
          prune: values.prune,
          actor: 'oncall-apply',
          createdBy: osUser() ?? 'oncall apply',
        });
        process.stdout.write(applied.length === 0 ? 'nothing to change\n' : applied.map((e) => `${e.type} ${subjectOf(e)}\n`).join(''));
      } finally {
        await closeNats(nc, log);
      }
      return 0;
    }
    case 'replay': {
      const env = parseEnv(CliEnv);
      const nc = await connectNats(env.NATS_URL, 'oncall-replay', log);
      try {
        const result = await rebuildReadModels({
          nc,
          databaseUrl: env.DATABASE_URL,
          schema: env.READ_MODEL_SCHEMA,
          log,
          onProgress: progressPrinter(process.stderr),
        });
        process.stdout.write(`rebuilt ${result.events} events in ${result.seconds.toFixed(1)} s and switched over\n`);
      } finally {
        await closeNats(nc, log);
      }
      return 0;
    }
    case 'alerts': {
      const { values } = parseArgs({
        args: rest,
        options: { grpc: { type: 'string', default: '127.0.0.1:50051' }, status: { type: 'string' } },
      });
      for await (const alert of listAlertsOverGrpc(values.grpc, values.status)) process.stdout.write(`${JSON.stringify(alert)}\n`);
      return 0;
    }
    case 'ack':
    case 'resolve':
    case 'escalate':
    case 'snooze': {
      if (!isCliCommand(command)) throw new UsageError('unknown alert command');
      let args;
      try {
        args = parseCommandArgs(command, rest, process.env);
      } catch (err) {
        if (err instanceof CommandUsageError) throw new UsageError(err.message);
        throw err;
      }
      const result = await runAlertCommand(args);
      process.stdout.write(result.out);
      process.stderr.write(result.err);
      return result.code;
    }
    case 'history': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { 'as-of': { type: 'string' } } });
      const alertId = positionals[0];
      if (!alertId) throw new UsageError('history needs an alert id');
      const asOf = values['as-of'] === undefined ? undefined : new Date(values['as-of']);
      if (asOf && Number.isNaN(asOf.getTime())) throw new UsageError(`--as-of: not a time: ${values['as-of']}`);
      const env = parseEnv(CliEnv);
      const nc = await connectNats(env.NATS_URL, 'oncall-history', log);
      try {
        const events = await alertHistory(nc, alertId, asOf);
        // Past the log's retention, the archive keeps what the read model had.
        const lines = events.length > 0 ? events : await archivedHistory(env.DATABASE_URL, env.READ_MODEL_SCHEMA, alertId, asOf);
        if (lines.length === 0) {
          process.stderr.write(`oncall: no alert ${alertId} in the log or the archive\n`);
          return 1;
        }
        for (const e of lines) process.stdout.write(`${JSON.stringify(e)}\n`);
      } finally {
        await closeNats(nc, log);
      }
      return 0;
    }
    case 'parked': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { all: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
      });
      const env = parseEnv(CliEnv);
      const nc = await connectNats(env.NATS_URL, 'oncall-parked', log);
      try {
        const records = await listParked(nc);
        if (positionals[0] === 'retry') {
          const [, consumer, seqText] = positionals;
          const targets = values.all
            ? records.filter((r) => !isSettled(r))
            : records.filter((r) => r.consumer === consumer && String(r.seq) === seqText);
          if (!values.all && (consumer === undefined || seqText === undefined))
            throw new UsageError('parked retry needs <consumer> <seq>, or --all');
          if (targets.length === 0)
            throw new UsageError(values.all ? 'nothing parked is waiting' : `nothing parked as ${consumer} #${seqText}`);
          let failed = 0;
          for (const r of targets) {
            const answer = await retryParked(nc, r);
            if (answer.outcome === 'failed') failed++;
            process.stdout.write(`${r.consumer} ${r.stream}#${r.seq}: ${answer.outcome}${answer.error ? ` (${answer.error})` : ''}\n`);
          }
          return failed === 0 ? 0 : 1;
        }
        if (positionals.length > 0) throw new UsageError(`parked: unknown argument ${positionals[0]}`);
        const shown = values.all ? records : records.filter((r) => !isSettled(r));
        if (values.json) for (const r of shown) process.stdout.write(`${JSON.stringify(r)}\n`);
        else process.stdout.write(shown.length === 0 ? 'nothing parked\n' : `${shown.map(formatParked).join('\n')}\n`);
      } finally {
        await nc.drain();
      }
      return 0;
    }
    case 'contact': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { users: { type: 'string' } } });
      let args: ContactArgs;
      try {
        args = parseContactArgs(positionals);
      } catch (err) {
        if (err instanceof ContactUsageError) throw new UsageError(err.message);
        throw err;
      }
      const env = parseEnv(CliEnv);
      const source = contactSource(process.env, values.users, (url) => userDirectory(url));
      const nc = await connectNats(env.NATS_URL, 'oncall-contact', log);
      try {
        const verifications = await ContactVerifications.open(nc, { replicas: env.ONCALL_REPLICAS });
        const outcome = await runContactCommand(args, { verifications, source, now: Date.now() });
        (outcome.exit === 0 ? process.stdout : process.stderr).write(`${outcome.text}\n`);
        return outcome.exit;
      } finally {
        if ('directory' in source) source.directory.close();
        await closeNats(nc, log);
      }
    }
    case 'token':
      return runTokenCommand(rest, log).catch((err: unknown) => {
        throw err instanceof TokenUsageError ? new UsageError(err.message) : err;
      });
    case 'migrate': {
      const env = parseEnv(CliEnv);
      await migrate(env.DATABASE_URL, env.READ_MODEL_SCHEMA, log);
      return 0;
    }
    default:
      process.stderr.write(USAGE);
      return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  }
}

/**
 * `oncall up` until SIGINT (a terminal's Ctrl-C), SIGTERM (systemd, Kubernetes) or SIGHUP, then a
 * stop within 10 s and exit 0; 1 if it could not start or nats-server or PostgreSQL died under it.
 */
async function runUp(log: Logger): Promise<number> {
  const stopRequested = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopRequested.signal.aborted) return;
    log.info({ signal }, 'stopping');
    stopRequested.abort();
  };
  // SIGHUP: the terminal went away; stopping cleanly beats dying and leaving nats-server and PostgreSQL behind.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
  let running: Running;
  try {
    running = await up(log, process.env, stopRequested.signal);
  } catch (err) {
    if (err instanceof UpInterrupted) return 0;
    throw err;
  }
  process.stdout.write(banner(running));
  await new Promise<void>((resolve) => stopRequested.signal.addEventListener('abort', () => resolve()));
  const t0 = Date.now();
  await running.stop();
  log.info({ ms: Date.now() - t0 }, 'stopped');
  return 0;
}

function banner(running: Running): string {
  const width = Math.max(...running.parts.map((p) => p.name.length));
  const parts = running.parts.map((p) => `    ${p.name.padEnd(width)}  pid ${String(p.pid ?? '-').padEnd(7)} ${p.metrics ?? ''}`.trimEnd());
  return (
    `\nPipeline is up.\n  webhook:  ${running.ingestUrl}/api/v1/webhook/alertmanager\n  gRPC:     127.0.0.1:${running.grpcPort} (alerting.v1.AlertService; reflection on)\n` +
    `  processes (metrics at each URL):\n${parts.join('\n')}\n\n` +
    `Send an alert:\n  curl -sS -X POST '${running.ingestUrl}/api/v1/webhook/alertmanager' \\\n    -H 'Authorization: Bearer demo-alertmanager-key-0001' -H 'Content-Type: application/json' \\\n    --data @examples/alertmanager-firing.json\n\n` +
    `List alerts over gRPC:\n  npx oncall alerts --grpc 127.0.0.1:${running.grpcPort}\n\n` +
    `Pages go to the console (this output) for channels without a provider, each with its action link under ${running.publicUrl}/a/…\n` +
    `Act from the command line:\n  ONCALL_USER=alice npx oncall ack <alert-id> --grpc 127.0.0.1:${running.grpcPort}\n\nCtrl-C stops everything.\n`
  );
}

class UsageError extends Error {}

/** Where `apply` checks users: a users file, else kneutral-api's UserService, else nowhere. */
async function userSource(
  usersFile: string | undefined,
  userServiceUrl: string | undefined,
): Promise<{ options: ConfigCheckOptions; close: () => void }> {
  if (usersFile) {
    const ids = new Set((await readUsersFile(usersFile)).users.map((u) => u.id));
    return { options: { knownUsers: () => ids, usersSource: usersFile, validateTemplate }, close: () => undefined };
  }
  if (userServiceUrl) {
    const directory: UserDirectory = userDirectory(userServiceUrl, { ttlMs: 0 });
    const knownUsers = async (ids: string[]) => new Set((await directory.getUsers(ids)).users.keys());
    return { options: { knownUsers, usersSource: `UserService at ${userServiceUrl}`, validateTemplate }, close: () => directory.close() };
  }
  return { options: { validateTemplate }, close: () => undefined };
}

function osUser(): string | undefined {
  try {
    return userInfo().username || undefined;
  } catch {
    return undefined;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`oncall: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
