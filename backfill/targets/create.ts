// --target and its settings → a Target.
import { resolve } from 'node:path';
import { UsageError } from '../failures.ts';
import type { Options } from '../options.ts';
import type { Target } from './target.ts';
import { queueTarget } from './queue.ts';
import { vectorizeTarget } from './vectorize.ts';
import { workerTarget } from './worker.ts';

/** Cloudflare's API allows 1200 requests per 5 minutes per account: at most one write every 300 ms leaves room for the rest. */
const CLOUDFLARE_WRITE_INTERVAL_MS = 300;

export function createTarget(options: Options): Target {
  switch (options.target) {
    case 'local':
      return vectorizeTarget({
        baseURL: options.indexUrl,
        accountId: options.indexAccount,
        // The SDK insists on a credential; the local index ignores it unless it has INDEX_TOKEN set.
        apiToken: options.indexToken ?? 'local',
        index: options.index,
        label: 'local index',
        minIntervalMs: 0,
      });
    case 'cloudflare': {
      const { accountId, apiToken, baseURL } = options.cloudflare;
      if (!accountId || !apiToken) throw new UsageError('--target cloudflare needs CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN in the environment');
      return vectorizeTarget({ baseURL, accountId, apiToken, index: options.index, label: 'Vectorize index', minIntervalMs: CLOUDFLARE_WRITE_INTERVAL_MS });
    }
    case 'worker':
      if (!options.adminToken) throw new UsageError("--target worker needs ADMIN_TOKEN (the worker's admin token) in the environment");
      return workerTarget({ url: options.workerUrl, adminToken: options.adminToken });
    case 'queue':
      return queueTarget({ url: options.workerUrl, adminToken: options.adminToken, source: options.source === '-' ? '-' : resolve(options.cwd, options.source) });
  }
}
