import { helpFor, UsageError } from './cli-usage.js';

/**
 * The `oncall` command. Help is answered before the commands, and all they load, are imported:
 * `oncall --help` takes a fraction of the time a command does.
 */
async function start(argv: string[]): Promise<number> {
  const help = helpFor(argv);
  if (help !== null) {
    process.stdout.write(help);
    return 0;
  }
  const { main } = await import('./cli.js');
  return main(argv);
}

start(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`oncall: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
