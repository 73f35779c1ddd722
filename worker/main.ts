// The worker's entry point (wrangler.toml `main`): the HTTP API, and the
// backfill queue's consumer.
import type { MessageBatch } from '@cloudflare/workers-types/index.ts';
import { z } from 'zod';
import { createApp } from './app.ts';
import type { Env } from './config.ts';
import { consumeBackfill } from './queue/consumer.ts';

// Workers forbid eval, which zod would otherwise probe for on first use.
z.config({ jitless: true });

const app = createApp();

export default {
  fetch: app.fetch,
  queue: (batch: MessageBatch, env: Env) => consumeBackfill(batch, env),
};

export type { Env } from './config.ts';
