import { parseArgs } from 'node:util';
import { ApiScope } from '@oncall/contracts';
import { closeNats, createApiToken, ensureTopology, loadConfig, revokeApiToken, type ApiToken, type Logger } from '@oncall/shared';
import { cliSettings, natsOf } from './settings.js';

export const TOKEN_USAGE = `oncall token create --name <name> --scopes read,respond,write,admin [--user <user id>] [--expires 30d]
                         prints the token once (only its hash is stored); --user binds it to a user
oncall token list        every token: id, name, scopes, user, expiry, revoked
oncall token revoke <id> the token stops working at once
`;

export class TokenUsageError extends Error {
  override readonly name = 'TokenUsageError';
}

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30d`, `12h`, `90m` as milliseconds; throws TokenUsageError. */
export function parseExpiry(text: string): number {
  const m = /^(\d+)([mhd])$/.exec(text);
  if (!m || Number(m[1]) === 0) throw new TokenUsageError(`--expires: use a number and m, h or d (30d, 12h), not "${text}"`);
  return Number(m[1]) * UNITS[m[2]!]!;
}

/** `read,respond` as scopes; throws TokenUsageError naming an unknown one. */
export function parseScopes(text: string | undefined): ApiScope[] {
  if (!text) throw new TokenUsageError(`--scopes is required: a list of ${ApiScope.options.join(', ')}`);
  return text.split(',').map((s) => {
    const scope = ApiScope.safeParse(s.trim());
    if (!scope.success) throw new TokenUsageError(`--scopes: unknown scope "${s}"; use ${ApiScope.options.join(', ')}`);
    return scope.data;
  });
}

/** One line per token, for `oncall token list`. */
export function formatTokens(tokens: Iterable<ApiToken>, now: number): string {
  const rows = [['ID', 'NAME', 'SCOPES', 'USER', 'CREATED', 'EXPIRES', 'STATE']];
  for (const t of tokens) {
    const expired = t.expiresAt !== null && Date.parse(t.expiresAt) <= now;
    const state = t.revoked ? 'revoked' : expired ? 'expired' : 'active';
    rows.push([t.tokenId, t.name, t.scopes.join(','), t.userId ?? '-', t.createdAt, t.expiresAt ?? 'never', state]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (
    rows
      .map((r) =>
        r
          .map((cell, i) => cell.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** `oncall token create|list|revoke`: appends to and reads the CONFIG stream. */
export async function runTokenCommand(args: string[], log: Logger): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      scopes: { type: 'string' },
      user: { type: 'string' },
      expires: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || sub === undefined || sub === 'help') {
    process.stdout.write(TOKEN_USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (!['create', 'list', 'revoke'].includes(sub)) throw new TokenUsageError(`unknown token command "${sub}"\n${TOKEN_USAGE}`);
  const create =
    sub === 'create'
      ? {
          name: values.name ?? '',
          scopes: parseScopes(values.scopes),
          userId: values.user ?? null,
          expiresAt: values.expires === undefined ? null : new Date(Date.now() + parseExpiry(values.expires)),
        }
      : null;
  if (create && !create.name) throw new TokenUsageError('--name is required (what the token is for)');
  if (sub === 'revoke' && positionals.length !== 1) throw new TokenUsageError('revoke needs one token id (oncall token list)');

  const settings = cliSettings();
  const nc = await natsOf(settings, 'oncall-token', log);
  try {
    await ensureTopology(nc, { partitions: settings.partitions, replicas: settings.replicas }, log);
    if (create) {
      const { tokenId, token } = await createApiToken(nc, create);
      process.stderr.write(`token ${tokenId} created; it is shown only now:\n`);
      process.stdout.write(`${token}\n`);
      return 0;
    }
    const { state } = await loadConfig(nc);
    if (sub === 'list') {
      process.stdout.write(formatTokens(state.apiTokens.values(), Date.now()));
      return 0;
    }
    const tokenId = positionals[0]!;
    const token = state.apiTokens.get(tokenId);
    if (!token) throw new TokenUsageError(`no token "${tokenId}" (oncall token list)`);
    if (token.revoked) {
      process.stderr.write(`token ${tokenId} was revoked already\n`);
      return 0;
    }
    await revokeApiToken(nc, tokenId);
    process.stderr.write(`token ${tokenId} revoked\n`);
    return 0;
  } finally {
    await closeNats(nc, log);
  }
}
