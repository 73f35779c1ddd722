// What a checkpoint belongs to, and where it lives by default.
import { createHash } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import type { CheckpointScope } from './checkpoint.ts';
import type { Options } from './options.ts';

export function checkpointScope(sourceDescription: string, targetDescription: string, options: Options): CheckpointScope {
  // A run with thumbnails after one without must send every item again, thumbnail and all.
  return { source: sourceDescription, target: targetDescription, idFrom: options.idFrom, ...(options.thumbnails ? { thumbnails: 'webp-256' } : {}) };
}

/** --checkpoint, else .backfill/<source name>-<hash of the scope>.checkpoint in the working directory. */
export function checkpointPath(options: Options, scope: CheckpointScope): string {
  if (options.checkpoint) return resolve(options.cwd, options.checkpoint);
  const hash = createHash('sha256').update(JSON.stringify(scope)).digest('hex').slice(0, 12);
  const name = (scope.source === 'stdin' ? 'stdin' : basename(scope.source!)).replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 40) || 'source';
  return join(options.cwd, '.backfill', `${name}-${hash}.checkpoint`);
}

/** --errors, else the checkpoint's path with .errors.jsonl. */
export function errorsPath(options: Options, checkpoint: string): string {
  return options.errors ? resolve(options.cwd, options.errors) : `${checkpoint.replace(/\.checkpoint$/, '')}.errors.jsonl`;
}
