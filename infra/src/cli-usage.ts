import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake in how the CLI was called: printed, exit code 2, nothing sent. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Help = Readonly<{ synopsis: string; text: string }>;

const SERVERS = `Where the servers are: the settings oncall up reads, so the CLI finds what oncall up started
  NATS_URL, else nats://127.0.0.1:<NATS_PORT> (4222)
  DATABASE_URL, else postgres://postgres:postgres@127.0.0.1:<PG_PORT>/oncall (54329)
  --grpc host:port, else ONCALL_GRPC, else 127.0.0.1:<GRPC_PORT> (50051; GRPC_HOST if it names one address)`;

/** Every command and subcommand: its synopsis (the overview lists them) and what it does. */
export const COMMANDS: Readonly<Record<string, Help>> = {
  up: {
    synopsis: 'up',
    text: `start the whole pipeline: a local nats-server and PostgreSQL (unless NATS_URL / DATABASE_URL are set)
with data under ONCALL_DATA_DIR, migrations, the config file, a file-backed UserService, then every service.
Ctrl-C stops everything. Settings: README.md (Settings).`,
  },
  apply: {
    synopsis: 'apply -f <file.yaml> [--users <users.yaml>] [--prune] [--force]',
    text: `check the file (shapes, references, CEL rules, time zones, users) and append what changed:
services, heartbeats, calendars, templates, schedules, escalation policies, routing, maintenance windows,
notification rules, equipment types, ticket providers. Users are checked against --users, else USER_SERVICE_URL, else not
(with a warning). Any problem: every one is printed and nothing is appended.
  -f, --file <file.yaml>   the configuration file (docs/configuration.md)
  --users <users.yaml>     check user ids against this users file
  --prune                  also remove what the file no longer lists
  --force                  overwrite changes made through the API since (drift); without it they are shown and
                           nothing is appended`,
  },
  export: {
    synopsis: 'export [--out <file.yaml>]',
    text: `the current configuration as the file apply reads (integration keys as keyHash); applying it changes nothing
  -o, --out <file.yaml>    write the file there (default: print it)`,
  },
  replay: {
    synopsis: 'replay',
    text: 'rebuild the read models from sequence 1 into a fresh schema while the live one serves, then switch over',
  },
  alerts: {
    synopsis: 'alerts [--status S] [--severity S] [--service ID] [--label k=v] [--limit N] [--json] [--grpc host:port]',
    text: `list alerts through query-api's AlertService, newest first: a table (id, status, severity, service,
age, site, summary), or one JSON object a line with --json. Filters (repeatable, or comma-separated):
  --status triggered|acknowledged|snoozed|resolved
  --severity info|warning|error|critical
  --service <service id>
  --label <key>=<value>    the alert has this label, e.g. --label site=ams2 (every one given must match)
  --limit <1..10000>       at most this many (default 1000)
  --json                   one JSON object a line, full ids
  --grpc host:port         query-api's address (see below)`,
  },
  ack: {
    synopsis: 'ack|resolve|escalate|snooze <alert-id> [--user <id>] [--note <text>] [--for 30m|2h|1d] [--grpc host:port]',
    text: `act on an alert through query-api's AlertService (recorded as via cli). Who acts: --user, else
ONCALL_USER, else the user ONCALL_API_TOKEN is bound to; a user the UserService does not know is refused.
snooze needs --for. Exit 0: done or already so; 1: the alert is resolved or unknown, or query-api failed; 2: bad input
  -u, --user <id>          who acts
  -n, --note <text>        a note kept with the action
  --for 30m|2h|1d          snooze only: for how long
  --grpc host:port         query-api's address (see below)`,
  },
  history: {
    synopsis: 'history <alert-id> [--json] [--as-of <ISO time>] [--log] [--grpc host:port]',
    text: `the alert's whole timeline through query-api (GetAlert, GetEscalationState, GetAlertTimeline): where
it was routed, every page and delivery, acks and the rest, oldest first. An unknown id: exit 1.
  --json                   one JSON object: {"alert", "escalation", "timeline"}
  --as-of <ISO time>       only the entries up to then (the head shows the alert as it is now)
  --log                    the alert's own events read from the log itself (ALERTS stream, the archive
                           once the log no longer holds them), one JSON line each: what an auditor trusts
  --grpc host:port         query-api's address (see below)`,
  },
  parked: {
    synopsis: 'parked [--all] [--json] | parked retry <consumer> <seq> | parked retry --all',
    text: `messages a consumer could not apply and parked (read from the log): where, why, retries
  --all                    also list those a retry applied
  --json                   one JSON object a line
  retry ...                see oncall parked retry --help`,
  },
  'parked retry': {
    synopsis: 'parked retry <consumer> <seq> | parked retry --all',
    text: 'ask the running consumer to take a parked message again (e.g. after an upgrade); --all: every one still waiting',
  },
  contact: {
    synopsis: 'contact verify <user> <channel> [--users <users.yaml>] | contact confirm <user> <channel> <code>',
    text: `verify a user's contact method: see oncall contact verify --help and oncall contact confirm --help`,
  },
  'contact verify': {
    synopsis: 'contact verify <user> <channel> [--users <users.yaml>]',
    text: `send a verification code to the user's sms, voice, email, slack or teams method (the dispatcher
sends it; the console channel prints it). The address comes from --users, else USER_SERVICE_URL, else
USERS_FILE, else examples/users.yaml`,
  },
  'contact confirm': {
    synopsis: 'contact confirm <user> <channel> <code>',
    text: `confirm the code (10 minutes, 5 tries); the method then counts as verified (ONCALL_REQUIRE_VERIFIED).
An SMS method is also confirmed by replying the code`,
  },
  token: {
    synopsis: 'token create --name <name> --scopes read,respond,write,admin [--user <id>] [--expires 30d] | token list | token revoke <id>',
    text: `API tokens of the gRPC API (docs/query-api.md#authentication); only a token's hash is stored
  create   prints the token once; --user binds it to a user (it then acts only as that user)
  list     every token: id, name, scopes, user, expiry, revoked
  revoke   the token stops working at once`,
  },
  ticket: {
    synopsis: 'ticket preview <provider-id> [--alert <alert-id>] | ticket providers | ticket show <alert-id> [--provider <id>]',
    text: `tickets through query-api's TicketingService (docs/tickets.md): see oncall ticket preview --help,
oncall ticket providers --help and oncall ticket show --help
  --grpc host:port         query-api's address (see below)`,
  },
  'ticket preview': {
    synopsis: 'ticket preview <provider-id> [--alert <alert-id>] [--json] [--grpc host:port]',
    text: `ask the ticket bridge to check the provider (credentials, reachability) and, with --alert, print the
fields the alert maps to (the provider's fields in CEL, evaluated). Nothing is created. Exit 0: the check
passed; 1: it failed (the error is printed) or query-api / the ticket bridge could not be reached
  -a, --alert <alert-id>   map this alert's fields
  --json                   the answer as one JSON object
  --grpc host:port         query-api's address (see below)`,
  },
  'ticket providers': {
    synopsis: 'ticket providers [--json] [--grpc host:port]',
    text: `the configured ticket providers with their health: ok, failing (the latest call failed) or unknown (no
call yet), the last success and failure, how many alerts' tickets failed for good or wait for a retry
  --json                   one JSON object a line
  --grpc host:port         query-api's address (see below)`,
  },
  'ticket show': {
    synopsis: 'ticket show <alert-id> [--provider <id>] [--json] [--grpc host:port]',
    text: `the alert's ticket (its first one, or that of --provider): key, url, status, sync state and last error.
An alert without a ticket: exit 1
  -p, --provider <id>      the ticket of this provider
  --json                   one JSON object
  --grpc host:port         query-api's address (see below)`,
  },
  migrate: {
    synopsis: 'migrate',
    text: 'bring the read-model schema up to date',
  },
};

/** The alert commands share one help text. */
const ALIASES: Readonly<Record<string, string>> = { resolve: 'ack', escalate: 'ack', snooze: 'ack' };

const TOP_LEVEL = ['up', 'apply', 'export', 'replay', 'alerts', 'ack', 'history', 'ticket', 'parked', 'contact', 'token', 'migrate'];

export const OVERVIEW = `usage: oncall <command> [options]      oncall <command> --help for one command

${TOP_LEVEL.map((c) => `  ${COMMANDS[c]!.synopsis}`).join('\n')}

${SERVERS}
`;

const helpText = (key: string): string => {
  const help = COMMANDS[key]!;
  return `usage: oncall ${help.synopsis}\n\n${help.text}\n${help.text.includes('--grpc') || key === 'apply' ? `\n${SERVERS}\n` : ''}`;
};

const isKnown = (command: string): boolean => Object.hasOwn(COMMANDS, command) || Object.hasOwn(ALIASES, command);

/** `--help` or `-h` among the arguments (before a `--`). */
const asksHelp = (args: readonly string[]): boolean => {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
};

/**
 * What to print for a request for help (`oncall`, `oncall help [command]`, `oncall <command> ... --help`),
 * or null when the arguments ask for none. Throws UsageError for a command that does not exist.
 */
export function helpFor(argv: readonly string[]): string | null {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h') return OVERVIEW;
  const asked = first === 'help' ? rest : argv;
  if (first === 'help' && asked.length === 0) return OVERVIEW;
  const [command, sub] = asked;
  if (!isKnown(command!)) throw new UsageError(`unknown command "${command}"; oncall --help lists them`);
  if (first !== 'help' && !asksHelp(rest)) return null;
  const key = ALIASES[command!] ?? command!;
  return helpText(sub !== undefined && Object.hasOwn(COMMANDS, `${key} ${sub}`) ? `${key} ${sub}` : key);
}

/** node:util parseArgs in strict mode, its errors (an unknown flag, a missing value) as UsageError naming the command. */
export function parseOrUsage<T extends ParseArgsConfig>(command: string, config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    if (!(err instanceof TypeError) || !String((err as { code?: string }).code).startsWith('ERR_PARSE_ARGS')) throw err;
    // parseArgs explains how to pass a value starting with '-' at length; the first sentence says what is wrong.
    throw new UsageError(`${command}: ${err.message.split('. ')[0]!.replace(/\.$/, '')}; oncall ${command} --help`);
  }
}
