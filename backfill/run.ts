// One backfill run from options to exit status.
import { CheckpointWriter, loadCheckpoint, type LoadedCheckpoint } from './checkpoint.ts';
import { describeDryRun, dryRun } from './dry-run.ts';
import { EmbedderPool } from './embedding/embedder-pool.ts';
import { ErrorsLog } from './errors-log.ts';
import { FatalError, RejectedError, UsageError } from './failures.ts';
import { log } from './log.ts';
import type { Options } from './options.ts';
import { Pipeline } from './pipeline.ts';
import { Progress, summary } from './progress.ts';
import { retrying } from './retry.ts';
import { checkpointPath, checkpointScope, errorsPath } from './scope.ts';
import { openSource } from './sources/open.ts';
import { createTarget } from './targets/create.ts';
import type { Target } from './targets/target.ts';

export const EXIT = { ok: 0, failed: 1, usage: 2, maxErrors: 3, interrupted: 130 } as const;

export interface RunOutcome {
  code: number;
  /** Why the run did not finish, in one line. */
  reason?: string;
}

export interface RunControl {
  /** Called once the run can be stopped gracefully; `stop` finishes what is in flight. */
  onStoppable(stop: () => void): void;
}

async function runDry(options: Options): Promise<RunOutcome> {
  const source = await openSource(options.source, options.cwd);
  let checkpoint: LoadedCheckpoint | undefined;
  let path: string | undefined;
  let target: Target | undefined;
  try {
    target = createTarget(options);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
  }
  if (target) {
    const scope = checkpointScope(source.description, target.description, options);
    path = checkpointPath(options, scope);
    // Read only: a dry run does not even repair a torn line.
    checkpoint = await loadCheckpoint(path, scope, false);
  }
  const counts = await dryRun(source, checkpoint);
  process.stdout.write(`${describeDryRun(source.description, counts, checkpoint?.entries ? path : undefined, options.thumbnails)}\n`);
  return { code: EXIT.ok };
}

export async function run(options: Options, control: RunControl): Promise<RunOutcome> {
  if (options.dryRun) return runDry(options);
  const started = performance.now();
  const source = await openSource(options.source, options.cwd);
  const target = createTarget(options);
  // The checkpoint first: one that belongs to another backfill stops the run before anything is touched.
  const scope = checkpointScope(source.description, target.description, options);
  const checkpointFile = checkpointPath(options, scope);
  const done = await loadCheckpoint(checkpointFile, scope);

  const embedder =
    target.input === 'vectors' ? new EmbedderPool({ urls: options.embedders, token: options.embedderToken, log }) : undefined;

  const model = embedder ? await embedder.model() : undefined;
  try {
    await retrying(
      `preparing the ${target.description}`,
      () => target.prepare({ dimensions: model?.dim ?? 0, createIndex: options.createIndex, metadataIndexes: options.metadataIndexes }),
      undefined,
      (error, delay) => log.warn(`${error.message}; retrying in ${(delay / 1000).toFixed(1)} s`),
    );
  } catch (error) {
    if (error instanceof RejectedError) throw new FatalError(error.message);
    throw error;
  }

  const checkpoint = await CheckpointWriter.open(checkpointFile, scope, done.entries);
  const errors = await ErrorsLog.open(errorsPath(options, checkpointFile));
  log.info(
    `backfilling ${source.description} into the ${target.description}` +
      `${model ? ` with ${model.name} (${model.dim} dimensions) from ${embedder!.urls.join(', ')}` : ''}; ` +
      `checkpoint ${checkpointFile}${done.entries ? ` (${done.entries} items already indexed)` : ''}`,
  );

  const pipeline = new Pipeline({
    target,
    embedder,
    done,
    checkpoint,
    errors,
    idFrom: options.idFrom,
    model: model?.name,
    thumbnails: options.thumbnails,
    concurrency: options.concurrency,
    batchSize: options.batchSize,
    maxErrors: options.maxErrors,
    log,
  });
  const progress = new Progress({ counters: pipeline.counters, tty: process.stderr.isTTY === true, intervalMs: options.logIntervalMs });
  void source
    .count?.()
    .then((n) => progress.setTotal(n))
    .catch(() => {});
  control.onStoppable(() => pipeline.stop('interrupted'));

  try {
    await pipeline.run(source.entries());
  } finally {
    progress.stop();
    await checkpoint.close();
    await errors.close();
  }

  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${summary(pipeline.counters, seconds, errors.count ? errors.path : undefined)}\n`);
  switch (pipeline.stopped) {
    case 'fatal':
      throw pipeline.fatal ?? new FatalError('stopped');
    case 'max-errors':
      return {
        code: EXIT.maxErrors,
        reason: `stopped: ${pipeline.counters.failed} items failed, more than --max-errors ${options.maxErrors} (see ${errors.path}); run the same command to resume`,
      };
    case 'interrupted':
      return { code: EXIT.interrupted, reason: 'interrupted; run the same command to resume' };
    default:
      return { code: EXIT.ok };
  }
}
