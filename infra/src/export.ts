import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { closeNats, loadConfig, type ConfigState, type Logger } from '@oncall/shared';
import { ConfigDriftError, exportConfig, fileInput } from '@oncall/shared/config-file';
import { parseOrUsage } from './cli-usage.js';
import { cliSettings, natsOf } from './settings.js';

const HEADER =
  '# The configuration as the log holds it (oncall export). Integration keys are their SHA-256 hashes (keyHash):\n' +
  '# the log never stores a key. `oncall apply -f` this file to restore it; docs/configuration.md.\n';

/** The current configuration as the YAML file `oncall apply` reads. */
export function exportedYaml(state: ConfigState): string {
  return HEADER + stringify(fileInput(exportConfig(state)), { lineWidth: 0 });
}

/** `oncall export [--out <file>]`: writes the file, or prints it. */
export async function runExport(args: string[], log: Logger): Promise<number> {
  const { values } = parseOrUsage('export', { args, options: { out: { type: 'string', short: 'o' } } });
  const nc = await natsOf(cliSettings(), 'oncall-export', log);
  try {
    const text = exportedYaml((await loadConfig(nc)).state);
    if (values.out) await writeFile(values.out, text, 'utf8');
    else process.stdout.write(text);
  } finally {
    await closeNats(nc, log);
  }
  return 0;
}

/** Prints a drift `oncall apply` refused (and returns null); other errors go on. */
export function refuseDrift(err: unknown): null {
  if (!(err instanceof ConfigDriftError)) throw err;
  process.stderr.write(
    `oncall: ${err.message}\noncall: nothing applied; oncall export shows the current configuration, --force overwrites\n`,
  );
  return null;
}
