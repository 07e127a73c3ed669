import { userInfo } from 'node:os';
import { status as grpcStatus } from '@grpc/grpc-js';
import { alertingV1 } from '@oncall/contracts/grpc';
import {
  ContactVerifications,
  closeNats,
  createLogger,
  ensureTopology,
  knownUsersIn,
  userDirectory,
  type Logger,
  type UserDirectory,
} from '@oncall/shared';
import {
  applyConfig,
  ConfigFileError,
  readAndCheckConfigFile,
  subjectOf,
  validateTemplate,
  type ConfigCheckOptions,
} from '@oncall/shared/config-file';
import { readUsersFile } from './users-file.js';
import { refuseDrift, runExport } from './export.js';
import { migrate } from './migrate.js';
import { progressPrinter, rebuildReadModels } from './replay.js';
import { up, UpInterrupted, type Running } from './up.js';
import { alertsTable, listAlerts, parseAlertsArgs } from './alerts-client.js';
import { parseCommandArgs, runAlertCommand } from './alert-commands.js';
import { parseOrUsage, UsageError } from './cli-usage.js';
import { apiClient, isServiceError, notReached } from './grpc-client.js';
import {
  alertHistory,
  AlertNotFound,
  archivedHistory,
  fetchTimeline,
  formatTimeline,
  parseHistoryArgs,
  timelineJson,
  type HistoryArgs,
} from './history.js';
import { cliSettings, natsOf, reaching, type Endpoint } from './settings.js';
import { contactSource, ContactUsageError, parseContactArgs, runContactCommand, type ContactArgs } from './contact.js';
import { formatParked, isSettled, listParked, retryParked } from './parked.js';
import { runTokenCommand, TokenUsageError } from './token.js';
import { parseTicketArgs, runTicketCommand } from './tickets.js';

/** Runs one command (oncall.ts answered requests for help and refused unknown commands). */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv as [string, ...string[]];
  const log = createLogger(`oncall-${command}`);
  const noArgs = () => parseOrUsage(command, { args: rest, options: {} });
  switch (command) {
    case 'up':
      noArgs();
      return runUp(log);
    case 'apply': {
      const { values } = parseOrUsage('apply', {
        args: rest,
        options: {
          file: { type: 'string', short: 'f' },
          prune: { type: 'boolean', default: false },
          force: { type: 'boolean', default: false },
          users: { type: 'string' },
        },
      });
      if (!values.file) throw new UsageError('apply needs -f <file.yaml>');
      const settings = cliSettings();
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
      const nc = await natsOf(settings, 'oncall-apply', log);
      try {
        await ensureTopology(nc, { partitions: settings.partitions, replicas: settings.replicas }, log);
        const applied = await applyConfig(nc, checked.file, {
          prune: values.prune,
          force: values.force,
          actor: 'oncall-apply',
          createdBy: osUser() ?? 'oncall apply',
        }).catch(refuseDrift);
        if (!applied) return 1;
        process.stdout.write(applied.length === 0 ? 'nothing to change\n' : applied.map((e) => `${e.type} ${subjectOf(e)}\n`).join(''));
      } finally {
        await closeNats(nc, log);
      }
      return 0;
    }
    case 'export':
      return runExport(rest, log);
    case 'replay': {
      noArgs();
      const settings = cliSettings();
      const nc = await natsOf(settings, 'oncall-replay', log);
      try {
        const result = await reaching('PostgreSQL', settings.database, () =>
          rebuildReadModels({
            nc,
            databaseUrl: settings.databaseUrl,
            schema: settings.schema,
            log,
            onProgress: progressPrinter(process.stderr),
          }),
        );
        process.stdout.write(`rebuilt ${result.events} events in ${result.seconds.toFixed(1)} s and switched over\n`);
      } finally {
        await closeNats(nc, log);
      }
      return 0;
    }
    case 'alerts': {
      const args = parseAlertsArgs(rest);
      const api = apiClient(cliSettings(process.env, args.grpc).grpc);
      try {
        const alerts: alertingV1.Alert[] = [];
        for await (const alert of listAlerts(api, args.request)) {
          if (args.json) process.stdout.write(`${JSON.stringify(alertingV1.Alert.toJSON(alert))}\n`);
          else alerts.push(alert);
        }
        if (!args.json) process.stdout.write(alertsTable(alerts, Date.now(), process.stdout.isTTY ? process.stdout.columns : undefined));
      } catch (err) {
        throw apiFailure(err, api.endpoint);
      } finally {
        api.close();
      }
      return 0;
    }
    case 'ack':
    case 'resolve':
    case 'escalate':
    case 'snooze': {
      const result = await runAlertCommand(parseCommandArgs(command, rest, process.env));
      process.stdout.write(result.out);
      process.stderr.write(result.err);
      return result.code;
    }
    case 'history':
      return runHistory(parseHistoryArgs(rest), log);
    case 'ticket': {
      const args = parseTicketArgs(rest);
      const api = apiClient(cliSettings(process.env, args.grpc).grpc);
      try {
        return await runTicketCommand(api, args, (text) => process.stdout.write(text));
      } catch (err) {
        if (isServiceError(err) && err.code === grpcStatus.NOT_FOUND) {
          process.stderr.write(`oncall: ${err.details}\n`);
          return 1;
        }
        throw apiFailure(err, api.endpoint);
      } finally {
        api.close();
      }
    }
    case 'parked': {
      const { values, positionals } = parseOrUsage('parked', {
        args: rest,
        allowPositionals: true,
        options: { all: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
      });
      if (positionals.length > 0 && positionals[0] !== 'retry') throw new UsageError(`parked: unknown argument ${positionals[0]}`);
      const nc = await natsOf(cliSettings(), 'oncall-parked', log);
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
        const shown = values.all ? records : records.filter((r) => !isSettled(r));
        if (values.json) for (const r of shown) process.stdout.write(`${JSON.stringify(r)}\n`);
        else process.stdout.write(shown.length === 0 ? 'nothing parked\n' : `${shown.map(formatParked).join('\n')}\n`);
      } finally {
        await nc.drain();
      }
      return 0;
    }
    case 'contact': {
      const { values, positionals } = parseOrUsage('contact', {
        args: rest,
        allowPositionals: true,
        options: { users: { type: 'string' } },
      });
      let args: ContactArgs;
      try {
        args = parseContactArgs(positionals);
      } catch (err) {
        if (err instanceof ContactUsageError) throw new UsageError(err.message);
        throw err;
      }
      const settings = cliSettings();
      const source = contactSource(process.env, values.users, (url) => userDirectory(url));
      const nc = await natsOf(settings, 'oncall-contact', log);
      try {
        const verifications = await ContactVerifications.open(nc, { replicas: settings.replicas });
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
      noArgs();
      const settings = cliSettings();
      await reaching('PostgreSQL', settings.database, () => migrate(settings.databaseUrl, settings.schema, log));
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}"; oncall --help lists them`);
  }
}

/** `oncall history`: the timeline through query-api, or with --log the alert's events from the log (and the archive). */
async function runHistory(args: HistoryArgs, log: Logger): Promise<number> {
  if (!args.log) {
    const api = apiClient(cliSettings(process.env, args.grpc).grpc);
    try {
      const timeline = await fetchTimeline(api, args.alertId, args.asOf);
      process.stdout.write(args.json ? timelineJson(timeline) : formatTimeline(timeline));
      return 0;
    } catch (err) {
      if (err instanceof AlertNotFound) {
        process.stderr.write(`oncall: ${err.message}\n`);
        return 1;
      }
      throw apiFailure(err, api.endpoint);
    } finally {
      api.close();
    }
  }
  const settings = cliSettings();
  const nc = await natsOf(settings, 'oncall-history', log);
  try {
    const events = await alertHistory(nc, args.alertId, args.asOf);
    // Past the log's retention, the archive keeps what the read model had.
    const lines =
      events.length > 0
        ? events
        : await reaching('PostgreSQL', settings.database, () =>
            archivedHistory(settings.databaseUrl, settings.schema, args.alertId, args.asOf),
          );
    if (lines.length === 0) {
      process.stderr.write(`oncall: alert ${args.alertId} not found in the log or the archive\n`);
      return 1;
    }
    for (const e of lines) process.stdout.write(`${JSON.stringify(e)}\n`);
  } finally {
    await closeNats(nc, log);
  }
  return 0;
}

/** A failed query-api call in words: not reached (where, which setting), or what query-api answered. */
function apiFailure(err: unknown, endpoint: Endpoint): unknown {
  if (!isServiceError(err)) return err;
  return notReached(err, endpoint) ?? new Error(`query-api at ${endpoint.address}: ${grpcStatus[err.code]}: ${err.details}`);
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
    `\nPipeline is up.\n  console:  ${running.consoleUrl.replace(/\/*$/, '/')} (sign in with the ONCALL_API_TOKEN below; act as a user)\n  webhook:  ${running.ingestUrl}/api/v1/webhook/alertmanager\n  gRPC:     127.0.0.1:${running.grpcPort} (alerting.v1.AlertService; reflection on)\n  tickets:  ${running.ticketBridgeUrl}/api/v1/tickets/<providerId>/events (inbound provider calls)\n` +
    `  processes (metrics at each URL):\n${parts.join('\n')}\n\n` +
    `Send an alert:\n  curl -sS -X POST '${running.ingestUrl}/api/v1/webhook/alertmanager' \\\n    -H 'Authorization: Bearer demo-alertmanager-key-0001' -H 'Content-Type: application/json' \\\n    --data @examples/alertmanager-firing.json\n\n` +
    `List alerts over gRPC:\n  npx oncall alerts --grpc 127.0.0.1:${running.grpcPort}\n\n` +
    `Pages go to the console (this output) for channels without a provider, each with its action link under ${running.publicUrl}/a/…\n` +
    `Act from the command line:\n  ONCALL_USER=alice npx oncall ack <alert-id> --grpc 127.0.0.1:${running.grpcPort}\n\nCtrl-C stops everything.\n`
  );
}

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
    const knownUsers = knownUsersIn(directory);
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
