// Command line and environment → validated options. Bad input is a
// UsageError naming the flag.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { UsageError } from './failures.ts';
import type { IdFrom } from './ids.ts';
import type { MetadataIndexSpec } from './targets/target.ts';

export type TargetName = 'local' | 'cloudflare' | 'worker' | 'queue';

export interface Options {
  source: string;
  /** Relative paths in arguments are taken from here. */
  cwd: string;
  target: TargetName;
  index: string;
  embedders: string[];
  embedderToken: string | undefined;
  /** The local index: base URL including /client/v4, and the account in its paths. */
  indexUrl: string;
  indexAccount: string;
  indexToken: string | undefined;
  workerUrl: string;
  adminToken: string | undefined;
  cloudflare: { baseURL: string; accountId: string | undefined; apiToken: string | undefined };
  checkpoint: string | undefined;
  errors: string | undefined;
  concurrency: number;
  batchSize: number;
  maxErrors: number | undefined;
  dryRun: boolean;
  idFrom: IdFrom;
  createIndex: boolean;
  metadataIndexes: MetadataIndexSpec[];
  /** Send a WebP thumbnail with each image (--target worker only). */
  thumbnails: boolean;
  logIntervalMs: number;
}

export const DEFAULTS = {
  index: 'crossmodal',
  embedder: 'http://127.0.0.1:8790',
  indexUrl: 'http://127.0.0.1:8791/client/v4',
  workerUrl: 'http://127.0.0.1:8787',
  cloudflareBaseURL: 'https://api.cloudflare.com/client/v4',
  /** Embedder requests in flight, per embedder. */
  concurrency: 4,
  batchSize: 32,
};

const flags = {
  target: { type: 'string' },
  index: { type: 'string' },
  embedder: { type: 'string', multiple: true },
  'index-url': { type: 'string' },
  'worker-url': { type: 'string' },
  checkpoint: { type: 'string' },
  errors: { type: 'string' },
  concurrency: { type: 'string' },
  'batch-size': { type: 'string' },
  'max-errors': { type: 'string' },
  'dry-run': { type: 'boolean' },
  'id-from': { type: 'string' },
  'metadata-index': { type: 'string', multiple: true },
  'create-index': { type: 'boolean' },
  thumbnails: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function integer(what: string, text: string | undefined, fallback: number | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return fallback;
  const parsed = z.coerce.number().int().min(min).max(max).safeParse(text);
  if (!parsed.success) throw new UsageError(`${what} must be a whole number from ${min} to ${max}, not ${JSON.stringify(text)}`);
  return parsed.data;
}

function httpUrl(what: string, text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${what} is not a URL: ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${what} must be an http(s) URL: ${text}`);
  return url;
}

/** http://host:port, …/client/v4, or a full …/client/v4/accounts/<account>/vectorize/v2/indexes/<name>. */
export function parseIndexUrl(text: string): { baseURL: string; account?: string; index?: string } {
  const url = httpUrl('--index-url', text);
  const path = url.pathname.replace(/\/+$/, '');
  if (path === '') return { baseURL: `${url.origin}/client/v4` };
  const match = /^(.*\/client\/v4)(?:\/accounts\/([^/]+)\/vectorize\/v2\/indexes(?:\/([^/]+))?)?$/.exec(path);
  if (!match) throw new UsageError(`--index-url must be the index service's address (http://host:port or …/client/v4) or an index URL (…/vectorize/v2/indexes/<name>), not ${text}`);
  return {
    baseURL: `${url.origin}${match[1]}`,
    ...(match[2] ? { account: decodeURIComponent(match[2]) } : {}),
    ...(match[3] ? { index: decodeURIComponent(match[3]) } : {}),
  };
}

function metadataIndex(text: string): MetadataIndexSpec {
  const at = text.lastIndexOf(':');
  const propertyName = text.slice(0, at);
  const indexType = text.slice(at + 1);
  if (at <= 0 || (indexType !== 'string' && indexType !== 'number' && indexType !== 'boolean') || propertyName.includes('"'))
    throw new UsageError(`--metadata-index takes <property>:<string|number|boolean>, not ${JSON.stringify(text)}`);
  return { propertyName, indexType };
}

const list = (values: readonly string[]) => values.flatMap((v) => v.split(/[\s,]+/)).filter(Boolean);

/** The options, or 'help' when --help was asked for. */
export function parseOptions(argv: string[], env: NodeJS.ProcessEnv, cwd: string): Options | 'help' {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: flags, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]!);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'give a source: a directory, a manifest, a URL list or -' : `one source only, not ${positionals.join(' ')}`);

  const target = values.target ?? 'local';
  if (!['local', 'cloudflare', 'worker', 'queue'].includes(target)) throw new UsageError(`--target must be local, cloudflare, worker or queue, not ${JSON.stringify(target)}`);
  const idFrom = values['id-from'] ?? (target === 'queue' ? 'url' : 'content');
  if (idFrom !== 'content' && idFrom !== 'path' && idFrom !== 'url') throw new UsageError(`--id-from must be content, path or url, not ${JSON.stringify(idFrom)}`);
  if (target === 'queue' && idFrom === 'content')
    throw new UsageError(
      '--target queue sends image URLs without downloading them, so ids cannot come from their content: use --id-from url (the default: a hash of the normalised URL), --id-from path, or ids in the manifest',
    );

  const thumbnails = values.thumbnails ?? false;
  if (thumbnails && target !== 'worker')
    throw new UsageError(
      `--thumbnails needs --target worker: the worker stores thumbnails (its THUMBNAILS R2 bucket) beside the index; ${
        target === 'queue' ? "the queue's consumer fetches the images itself and makes none" : 'a Vectorize index holds vectors and metadata, not pictures'
      }`,
    );

  const embedders = list(values.embedder ?? [env.EMBEDDER_URL ?? DEFAULTS.embedder]);
  if (embedders.length === 0) throw new UsageError('--embedder needs a URL');
  for (const url of embedders) httpUrl('--embedder', url);
  const index = parseIndexUrl(values['index-url'] ?? env.INDEX_URL ?? DEFAULTS.indexUrl);
  const indexName = values.index ?? index.index ?? DEFAULTS.index;
  if (indexName === '' || Buffer.byteLength(indexName) > 64) throw new UsageError('--index must be a name of 1 to 64 bytes');
  const workerUrl = values['worker-url'] ?? env.WORKER_URL ?? DEFAULTS.workerUrl;
  httpUrl('--worker-url', workerUrl);
  const cloudflareBaseURL = env.CLOUDFLARE_BASE_URL ?? env.CLOUDFLARE_API_BASE_URL ?? DEFAULTS.cloudflareBaseURL;
  httpUrl('CLOUDFLARE_BASE_URL', cloudflareBaseURL);

  return {
    source: positionals[0]!,
    cwd,
    target: target as TargetName,
    index: indexName,
    embedders,
    embedderToken: env.EMBEDDER_TOKEN || undefined,
    indexUrl: index.baseURL,
    indexAccount: index.account ?? 'local',
    indexToken: env.INDEX_TOKEN || undefined,
    workerUrl,
    adminToken: env.ADMIN_TOKEN || undefined,
    cloudflare: { baseURL: cloudflareBaseURL, accountId: env.CLOUDFLARE_ACCOUNT_ID || undefined, apiToken: env.CLOUDFLARE_API_TOKEN || undefined },
    checkpoint: values.checkpoint,
    errors: values.errors,
    concurrency: integer('--concurrency', values.concurrency, Math.min(256, DEFAULTS.concurrency * embedders.length), 1, 256)!,
    batchSize: integer('--batch-size', values['batch-size'], DEFAULTS.batchSize, 1, 256)!,
    maxErrors: integer('--max-errors', values['max-errors'], undefined, 0, Number.MAX_SAFE_INTEGER),
    dryRun: values['dry-run'] ?? false,
    idFrom,
    createIndex: values['create-index'] ?? false,
    metadataIndexes: (values['metadata-index'] ?? []).map(metadataIndex),
    thumbnails,
    logIntervalMs: integer('BACKFILL_LOG_INTERVAL_MS', env.BACKFILL_LOG_INTERVAL_MS, 5000, 100, 3_600_000)!,
  };
}
