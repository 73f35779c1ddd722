// npm start's own settings (scripts/start.ts). Its environment also reaches the embedder and the
// index it starts, so their settings apply too. Descriptions are the comments above each
// (docs/configuration.md is generated from them).
import { z } from 'zod';
import { readSettings } from '../common/settings.ts';

/** A port number; its upper bound is left to the service, which refuses a bad one in its own log. */
const port = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

export const schema = z.object({
  /** The embedder's port (the worker is wired to it). */
  EMBEDDER_PORT: port(8790),
  /** The local index's port. */
  INDEX_PORT: port(8791),
  /** The search worker's port (workerd through Miniflare). */
  WORKER_PORT: port(8787),
  /** The worker's admin token; unset, one is generated for the run and printed. @secret */
  ADMIN_TOKEN: z.string().optional(),
  /** The token between the worker and the embedder; unset, one is generated for the run and printed. @secret */
  EMBEDDER_TOKEN: z.string().optional(),
  /** The embedder's model (MODEL, a hub id, instead); neither set: demo/model, the demo CLIP, with a banner saying so. */
  MODEL_DIR: z.string().optional(),
  /** The worker's KV, Cache API and R2 thumbnails (Miniflare) are kept under this directory, beside the index's INDEX_DATA_DIR, so a restart keeps them as it keeps the items. */
  WORKER_PERSIST_DIR: z.string().min(1).default('.data/worker'),
});

export type StartSettings = z.output<typeof schema>;

/** The settings (empty variables count as unset), or an Error naming every bad variable. */
export function loadStartSettings(env: NodeJS.ProcessEnv): StartSettings {
  return readSettings(schema, env);
}
