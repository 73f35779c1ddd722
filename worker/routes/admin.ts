// Admin routes for the indexes: GET /v1/stats (each configured index: its
// vectors, its model, the worker's last write and whether the index has
// applied it) and POST /v1/admin/index:promote (the end of a model
// migration: searches switch to the next index, atomically for each search;
// worker/README.md#changing-the-model).
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { failureResponse, jsonResponse, serveRoute } from '../../common/http/routes.ts';
import { deferFor, type AppEnv } from '../context.ts';
import { ApiError } from '../errors.ts';
import type { Generation, Generations } from '../generations.ts';
import { adminAuth } from '../middleware/admin-auth.ts';
import { logJson } from '../observability/log.ts';
import { requestRules } from '../request.ts';
import { indexStatsSchema, promotedSchema, statsSchema } from '../schemas.ts';

type IndexStats = z.input<typeof indexStatsSchema>;

/** Vectors of the next index checked for their metadata.model before a promotion. */
const PROMOTION_SAMPLE = 20;
/** What the sample is drawn near: any text will do, the check is on every match. */
const PROMOTION_PROBE = 'a photo';

const adminResponses = {
  401: failureResponse('No bearer token'),
  403: failureResponse('Wrong token, or the admin API is disabled'),
};

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
/** `processedUpTo…` as REST sends them (strings) or as the binding's types say (numbers). */
const asText = (value: unknown) => (value === null || value === undefined ? null : String(value));

async function indexStats(generations: Generations, generation: Generation): Promise<IndexStats> {
  const [model, info, record] = await Promise.all([
    generation.client.model().then(
      (m) => ({ ok: true as const, value: m }),
      (error: unknown) => ({ ok: false as const, error: `embedder: ${message(error)}` }),
    ),
    generation.index.describe().then(
      (i) => ({ ok: true as const, value: i }),
      (error: unknown) => ({ ok: false as const, error: `index: ${message(error)}` }),
    ),
    generations.record(generation),
  ]);
  const lastMutation = record?.lastMutation ?? null;
  let lastMutationProcessed: boolean | null = null;
  if (lastMutation && info.ok) lastMutationProcessed = await generation.index.mutationProcessed(lastMutation.id).catch(() => null);
  const errors = [model, info].flatMap((r) => (r.ok ? [] : [r.error]));
  return {
    index: generation.name,
    binding: generation.slot,
    model: model.ok ? model.value : null,
    storedModel: record?.model ?? null,
    ...(info.ok
      ? {
          vectorCount: info.value.vectorCount,
          dimensions: info.value.dimensions,
          processedUpToMutation: asText(info.value.processedUpToMutation),
          processedUpToDatetime: asText(info.value.processedUpToDatetime),
        }
      : {}),
    lastMutation,
    lastMutationProcessed,
    ...(errors.length ? { error: errors.join('; ') } : {}),
  };
}

export function adminRoutes(app: OpenAPIHono<AppEnv>): void {
  const stats = createRoute({
    method: 'get',
    path: '/v1/stats',
    summary: 'The indexes (admin): vectors, dimensions, model, index version, the last write and whether it is applied',
    security: [{ admin: [] }],
    middleware: [adminAuth],
    responses: { 200: jsonResponse('The active index and, during a migration, the other one', statsSchema), ...adminResponses },
  });
  serveRoute(app, stats, requestRules, async (c) => {
    const { generations } = c.var.services;
    const resolved = await generations.resolve();
    const [active, other] = await Promise.all([
      indexStats(generations, resolved.active),
      resolved.other ? indexStats(generations, resolved.other.generation) : undefined,
    ]);
    const warnings: string[] = [];
    if (resolved.unknownPromotion)
      warnings.push(`the promotion record names index ${resolved.state.promotion!.index}, which is not configured: searches use ${resolved.active.name}`);
    for (const s of [active, ...(other ? [other] : [])]) {
      if (s.model && s.storedModel !== null && s.model.id !== s.storedModel)
        warnings.push(`index ${s.index} holds vectors of ${s.storedModel} but its embedders serve ${s.model.id}: its searches and writes are refused`);
      if (s.model && s.dimensions !== undefined && s.model.dim !== s.dimensions)
        warnings.push(`index ${s.index} has ${s.dimensions} dimensions but its embedders' model ${s.model.id} gives ${s.model.dim}`);
    }
    const body: z.input<typeof statsSchema> = {
      indexVersion: resolved.state.version,
      promotion: resolved.state.promotion,
      active,
      next: resolved.other?.role === 'next' ? other! : null,
      previous: resolved.other?.role === 'previous' ? other! : null,
      warnings,
    };
    return c.json(body, 200, { 'cache-control': 'no-store' });
  });

  const promote = createRoute({
    method: 'post',
    path: '/v1/admin/index:promote',
    summary: 'Switch searches to the next index (admin): the end of a model migration',
    description:
      'Checks that the next index is ready (its embedders answer, its dimensions are theirs, it holds at least as many vectors as the active index, ' +
      "and the vectors near a probe were made by its embedders' model), then stores the promotion record in KV and a new index version: " +
      'every search from then on uses the next index and its embedders, under new cache keys.',
    security: [{ admin: [] }],
    middleware: [adminAuth],
    request: {
      query: z.strictObject({
        force: z.enum(['true', 'false']).optional().meta({ description: 'Promote even when the next index holds fewer vectors than the active one.' }),
      }),
    },
    responses: {
      200: jsonResponse('Promoted: searches now use the next index', promotedSchema),
      400: failureResponse('No next index is configured'),
      ...adminResponses,
      409: failureResponse('The next index is already active, or not ready (empty, short of vectors, other dimensions, vectors of another model)'),
      500: failureResponse('No SEARCH_KV binding, where the promotion is stored'),
      503: failureResponse("The next index or its embedders are unavailable"),
    },
  });
  serveRoute(app, promote, requestRules, async (c, { query: { force } }) => {
    const { generations, version, config } = c.var.services;
    const resolved = await generations.resolve();
    const next = generations.next;
    if (!next)
      throw new ApiError(
        400,
        'no_next_index',
        'no next index is configured: bind VECTORIZE_NEXT (or set VECTORIZE_NEXT_URL) and EMBEDDER_NEXT_URLS, fill it, then promote (worker/README.md#changing-the-model)',
      );
    if (resolved.active === next)
      throw new ApiError(409, 'already_promoted', `index ${next.name} is already active: redeploy with it as VECTORIZE and without VECTORIZE_NEXT to finish (worker/README.md#changing-the-model)`);
    if (!c.env.SEARCH_KV) throw new ApiError(500, 'misconfigured', 'promotion is stored in KV: bind SEARCH_KV');
    const current = resolved.active;

    const notReady = (why: string) => new ApiError(409, 'next_index_not_ready', `index ${next.name} is not ready to be promoted: ${why}`);
    const model = await next.client.model();
    await generations.assertPaired(next, model.id);
    const [info, currentInfo] = await Promise.all([next.index.describe(), current.index.describe().catch(() => undefined)]);
    if (info.dimensions !== model.dim) throw notReady(`it has ${info.dimensions} dimensions, its embedders' model ${model.id} gives ${model.dim}`);
    if (info.vectorCount === 0) throw notReady('it holds no vectors: backfill it first');
    if (force !== 'true' && currentInfo && info.vectorCount < currentInfo.vectorCount)
      throw notReady(`it holds ${info.vectorCount} vectors, the active index ${current.name} ${currentInfo.vectorCount}: finish the backfill (or POST with ?force=true)`);
    const [probe] = await next.client.embedTexts([PROMOTION_PROBE]);
    const { matches } = await next.index.query(probe!, { topK: Math.min(PROMOTION_SAMPLE, info.vectorCount, 50), returnMetadata: 'all' });
    const foreign = matches.filter((m) => (m.metadata as Record<string, unknown> | undefined)?.model !== model.id);
    if (foreign.length)
      throw new ApiError(
        409,
        'model_mismatch',
        `of ${matches.length} vectors of index ${next.name} near a probe, ${foreign.length} were not made by ${model.id} ` +
          `(metadata.model: ${[...new Set(foreign.map((m) => String((m.metadata as Record<string, unknown> | undefined)?.model ?? 'none')))].join(', ')}, e.g. id ${foreign[0]!.id}): ` +
          'backfill it with its own embedders (backfill --embedder <EMBEDDER_NEXT_URLS> --index ' +
          `${next.name})`,
      );

    await generations.recordModel(next, model.id);
    const promotedAt = new Date().toISOString();
    const state = await version.promote({ index: next.name, model: model.id, previous: current.name, promotedAt });
    // Fill the next generation's model memory now, so its first searches need not ask the embedder.
    await next.embeddings.model(deferFor(c)).catch(() => undefined);
    logJson(config.LOG_LEVEL, 'warn', 'index promoted', { index: next.name, model: model.id, previous: current.name });
    const body: z.input<typeof promotedSchema> = {
      active: { index: next.name, model: model.id, vectorCount: info.vectorCount },
      previous: { index: current.name, ...(currentInfo ? { vectorCount: currentInfo.vectorCount } : {}) },
      promotedAt,
      indexVersion: state.version,
    };
    return c.json(body, 200, { 'cache-control': 'no-store' });
  });
}
