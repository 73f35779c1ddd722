// crossmodal-backfill: see help.ts, or run it with --help.
import { FatalError, UsageError } from './failures.ts';
import { HELP } from './help.ts';
import { log } from './log.ts';
import { parseOptions } from './options.ts';
import { EXIT, run } from './run.ts';

/** Under `npm run`, the working directory is the package's; the one the user typed in is INIT_CWD. */
const cwd = process.env.npm_lifecycle_event === 'backfill' && process.env.INIT_CWD ? process.env.INIT_CWD : process.cwd();

function fail(code: number, message: string): never {
  process.stderr.write(`crossmodal-backfill: ${message}\n`);
  process.exit(code);
}

let stopRequests = 0;
let stop: (() => void) | undefined;
const onSignal = (signal: NodeJS.Signals) => {
  stopRequests++;
  if (!stop) {
    process.stderr.write(`\ncrossmodal-backfill: ${signal} before any work started: exiting\n`);
    process.exit(EXIT.interrupted);
  }
  if (stopRequests > 1) {
    // Everything acknowledged is already in the checkpoint: exiting now loses nothing.
    process.stderr.write(`\ncrossmodal-backfill: ${signal} again: exiting now; run the same command to resume\n`);
    process.exit(EXIT.interrupted);
  }
  log.info(`${signal}: finishing the batches in flight and writing the checkpoint (Ctrl-C again exits at once)`);
  stop();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

try {
  const options = parseOptions(process.argv.slice(2), process.env, cwd);
  if (options === 'help') {
    process.stdout.write(HELP);
    process.exit(EXIT.ok);
  }
  const { code, reason } = await run(options, { onStoppable: (handler) => (stop = handler) });
  if (reason) fail(code, reason);
  process.exit(code);
} catch (error) {
  if (error instanceof UsageError) fail(EXIT.usage, `${error.message} (see --help)`);
  if (error instanceof FatalError) fail(EXIT.failed, error.message);
  fail(EXIT.failed, `unexpected error: ${(error as Error).stack ?? String(error)}`);
}
