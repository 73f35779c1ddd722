// Items: GET /v1/items/{id} (public); POST /v1/items (batch upsert),
// DELETE /v1/items/{id} and POST /v1/items:delete (admin). Every write bumps
// the index version so cached results computed before it stop being served.
import type { VectorizeVector } from '@cloudflare/workers-types/index.ts';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { z } from 'zod';
import { failureResponse, jsonPost, jsonResponse, serveRoute } from '../../common/http/routes.ts';
import type { Config } from '../config.ts';
import type { AppContext, AppEnv } from '../context.ts';
import { resolveImage } from '../embedding/image-input.ts';
import { ApiError, badRequest } from '../errors.ts';
import { adminAuth } from '../middleware/admin-auth.ts';
import { rateLimit } from '../middleware/rate-limit.ts';
import { limitBody, requestRules } from '../request.ts';
import { itemSchema, mutationSchema, type ItemSchemas } from '../schemas.ts';

const EMBED_CHUNK = 64;

type Mutation = z.input<typeof mutationSchema>;

async function inChunks<T, R>(values: T[], size: number, work: (chunk: T[]) => Promise<R[]>): Promise<R[]> {
  const chunks: T[][] = [];
  for (let i = 0; i < values.length; i += size) chunks.push(values.slice(i, i + size));
  return (await Promise.all(chunks.map(work))).flat();
}

/** After a write: a new index version. A failure here only delays invalidation to the cache TTL. */
async function bumpVersion(c: AppContext): Promise<void> {
  try {
    await c.var.services.version.bump();
  } catch (error) {
    console.error('index version bump failed; cached results expire with their TTL', error);
  }
}

const accepted = (description: string) => jsonResponse(description, mutationSchema);
const adminResponses = {
  401: failureResponse('No bearer token'),
  403: failureResponse('Wrong token, or the admin API is disabled'),
};

export function itemRoutes(app: OpenAPIHono<AppEnv>, config: Config, schemas: ItemSchemas): void {
  const get = createRoute({
    method: 'get',
    path: '/v1/items/{id}',
    summary: 'A stored item',
    middleware: [rateLimit],
    request: { params: schemas.params, query: schemas.get },
    responses: {
      200: jsonResponse('The item', itemSchema),
      400: failureResponse('Invalid id or parameter'),
      404: failureResponse('No such item'),
      429: failureResponse('Rate limited'),
    },
  });
  serveRoute(app, get, requestRules, async (c, { params: { id }, query: { values } }) => {
    const item = (await c.var.services.index.getByIds([id])).find((v) => v.id === id);
    if (!item) throw new ApiError(404, 'item_not_found', `no item with id ${JSON.stringify(id)}`);
    const body: z.input<typeof itemSchema> = {
      id: item.id,
      ...(item.namespace !== undefined && item.namespace !== null ? { namespace: item.namespace } : {}),
      metadata: item.metadata ?? {},
      ...(values === 'true' || values === '1' ? { values: Array.from(item.values) } : {}),
    };
    return c.json(body, 200, { 'cache-control': 'no-store' });
  });

  const upsert = jsonPost('/v1/items', schemas.upsert, {
    summary: 'Upsert items (admin): each embedded from text or image, or given as a vector',
    security: [{ admin: [] }],
    middleware: [adminAuth, limitBody(() => config.MAX_ADMIN_BODY_BYTES)],
    responses: {
      202: accepted('Upsert accepted'),
      400: failureResponse('Invalid item'),
      ...adminResponses,
      413: failureResponse('Body too large'),
      503: failureResponse('Embedder or index unavailable'),
    },
  });
  serveRoute(app, upsert, requestRules, async (c, { json: { items } }) => {
    const { index, client, imageLimits } = c.var.services;
    const dimensions = await index.dimensions();
    items.forEach((item, i) => {
      if (item.vector && item.vector.length !== dimensions)
        throw badRequest('dimension_mismatch', `items.${i}.vector has ${item.vector.length} dimensions; the index has ${dimensions}`);
    });

    const texts = items.filter((i) => i.text !== undefined);
    const images = items.filter((i) => i.image !== undefined);
    const [textRows, imageRows] = await Promise.all([
      inChunks(texts, EMBED_CHUNK, (chunk) => client.embedTexts(chunk.map((i) => i.text!))),
      inChunks(images, EMBED_CHUNK, async (chunk) => c.var.services.embeddings.embedImagesAndRemember(await Promise.all(chunk.map((i) => resolveImage(i.image!, imageLimits))))),
    ]);
    const embedded = new Map<string, Float32Array>();
    texts.forEach((item, i) => embedded.set(item.id, textRows[i]!));
    images.forEach((item, i) => embedded.set(item.id, imageRows[i]!));

    const vectors: VectorizeVector[] = items.map((item) => {
      const values = item.vector ?? Array.from(embedded.get(item.id)!);
      if (values.length !== dimensions)
        throw new ApiError(502, 'index_error', `the embedder's ${values.length}-dimensional vectors do not fit the ${dimensions}-dimensional index`);
      return {
        id: item.id,
        values,
        ...(item.namespace !== undefined ? { namespace: item.namespace } : {}),
        ...(item.metadata !== undefined ? { metadata: item.metadata } : {}),
      };
    });
    const { mutationId } = await index.upsert(vectors);
    await bumpVersion(c);
    return c.json({ mutationId, count: vectors.length, ids: vectors.map((v) => v.id) } satisfies Mutation, 202);
  });

  const removeMany = jsonPost('/v1/items:delete', schemas.remove, {
    summary: 'Delete items by id (admin)',
    security: [{ admin: [] }],
    middleware: [adminAuth, limitBody(() => config.MAX_JSON_BYTES)],
    responses: { 202: accepted('Deletion accepted'), 400: failureResponse('Invalid ids'), ...adminResponses, 413: failureResponse('Body too large') },
  });
  serveRoute(app, removeMany, requestRules, async (c, { json: { ids } }) => {
    const { mutationId } = await c.var.services.index.deleteByIds([...new Set(ids)]);
    await bumpVersion(c);
    return c.json({ mutationId, count: ids.length } satisfies Mutation, 202);
  });

  const removeOne = createRoute({
    method: 'delete',
    path: '/v1/items/{id}',
    summary: 'Delete an item (admin)',
    security: [{ admin: [] }],
    middleware: [adminAuth],
    request: { params: schemas.params },
    responses: { 202: accepted('Deletion accepted'), 400: failureResponse('Invalid id'), ...adminResponses },
  });
  serveRoute(app, removeOne, requestRules, async (c, { params: { id } }) => {
    const { mutationId } = await c.var.services.index.deleteByIds([id]);
    await bumpVersion(c);
    return c.json({ mutationId, count: 1 } satisfies Mutation, 202);
  });
}
