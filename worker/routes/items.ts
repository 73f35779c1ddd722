// Items: GET /v1/items/{id} and its thumbnail GET /v1/items/{id}/thumbnail
// (public); GET /v1/items (the stored ids, page by page), POST /v1/items
// (batch upsert, with optional thumbnails), DELETE /v1/items/{id} and
// POST /v1/items:delete (admin). Reads use the active index. Writes go to
// every configured index (during a model migration, both: worker/generations.ts),
// each embedded by that index's own embedders and stored with its model in
// metadata.model; then the index version is bumped so cached results
// computed before the write stop being served. Thumbnails live in R2
// (worker/thumbnails/), keyed by item id: an upsert stores or removes each
// item's before the index is written, and a delete removes it after, so a
// search never finds an item whose picture is missing.
import type { VectorizeVector } from '@cloudflare/workers-types/index.ts';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { z } from 'zod';
import { failureResponse, jsonPost, jsonResponse, serveRoute } from '../../common/http/routes.ts';
import { etagMatches } from '../cache/result-cache.ts';
import type { Config } from '../config.ts';
import { deferFor, type AppContext, type AppEnv } from '../context.ts';
import type { ModelInfo } from '../embedding/embedder-client.ts';
import { resolveImage } from '../embedding/image-input.ts';
import { ApiError, badRequest } from '../errors.ts';
import type { Generation } from '../generations.ts';
import { adminAuth } from '../middleware/admin-auth.ts';
import { rateLimit } from '../middleware/rate-limit.ts';
import { limitBody, requestRules } from '../request.ts';
import { itemListSchema, itemSchema, mutationSchema, type ItemSchemas } from '../schemas.ts';
import { THUMBNAIL_TYPES } from '../thumbnails/format.ts';
import { readThumbnail, type Thumbnail } from '../thumbnails/input.ts';
import { noBinding, thumbnailStoreOf } from '../thumbnails/store.ts';
import { decodeListCursor, encodeListCursor } from '../vectorize/list-cursor.ts';
import type { SearchIndex } from '../vectorize/search-index.ts';

const EMBED_CHUNK = 64;
/** Ids per getByIds when a listing filters by namespace. */
const GET_CHUNK = 100;

type Mutation = z.input<typeof mutationSchema>;
type IndexWrite = NonNullable<Mutation['indexes']>[number];

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

/** The answer to a write: the active index's mutation first, and each index's during a migration. */
function mutation(written: IndexWrite[], count: number, targets: number, ids?: string[]): Mutation {
  return { mutationId: written[0]!.mutationId, count, ...(ids ? { ids } : {}), ...(targets > 1 ? { indexes: written } : {}) };
}

/** Deletes from every configured index; `count` as the client gave the ids. */
async function removeEverywhere(c: AppContext, ids: string[], count = ids.length): Promise<Mutation> {
  const { generations } = c.var.services;
  const { writes } = await generations.resolve();
  const written = await Promise.all(
    writes.map(async (generation): Promise<IndexWrite> => {
      const { mutationId } = await generation.index.deleteByIds(ids);
      await generations.recordWrite(generation, mutationId);
      return { index: generation.name, mutationId, count: ids.length };
    }),
  );
  // After the index: an item that is found always has its thumbnail.
  await thumbnailStoreOf(c.env)?.remove(ids);
  await bumpVersion(c);
  return mutation(written, count, writes.length);
}

/** The ids among `ids` stored in `namespace`, in order (list-vectors has no namespace filter). */
async function inNamespace(index: SearchIndex, ids: string[], namespace: string): Promise<string[]> {
  const stored = await inChunks(ids, GET_CHUNK, (chunk) => index.getByIds(chunk));
  const matching = new Set(stored.filter((v) => v.namespace === namespace).map((v) => v.id));
  return ids.filter((id) => matching.has(id));
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
    const { active } = await c.var.services.generations.resolve();
    const item = (await active.index.getByIds([id])).find((v) => v.id === id);
    if (!item) throw new ApiError(404, 'item_not_found', `no item with id ${JSON.stringify(id)}`);
    const body: z.input<typeof itemSchema> = {
      id: item.id,
      ...(item.namespace !== undefined && item.namespace !== null ? { namespace: item.namespace } : {}),
      metadata: item.metadata ?? {},
      ...(values === 'true' || values === '1' ? { values: Array.from(item.values) } : {}),
    };
    return c.json(body, 200, { 'cache-control': 'no-store' });
  });

  const thumbnail = createRoute({
    method: 'get',
    path: '/v1/items/{id}/thumbnail',
    summary: "A stored item's thumbnail (as POST /v1/items stored it)",
    description:
      'The picture with its type, an ETag and Cache-Control: public, max-age=THUMBNAIL_MAX_AGE_SECONDS (a day by default): a thumbnail replaced ' +
      'under the same id reaches a browser that holds the old one once that expires (then If-None-Match revalidates it).',
    middleware: [rateLimit],
    request: { params: schemas.params },
    responses: {
      200: {
        description: 'The thumbnail',
        headers: { ETag: { schema: { type: 'string' as const } }, 'Cache-Control': { schema: { type: 'string' as const } } },
        content: Object.fromEntries(THUMBNAIL_TYPES.map((type) => [type, { schema: { type: 'string' as const, format: 'binary' } }])),
      },
      304: { description: 'Not modified (If-None-Match matched the ETag).' },
      400: failureResponse('Invalid id'),
      404: failureResponse('No thumbnail for this id (or no THUMBNAILS binding)'),
      429: failureResponse('Rate limited'),
    },
  });
  serveRoute(app, thumbnail, requestRules, async (c, { params: { id } }) => {
    const stored = await thumbnailStoreOf(c.env)?.get(id);
    if (!stored) throw new ApiError(404, 'thumbnail_not_found', `no thumbnail for item ${JSON.stringify(id)}`);
    const headers = { etag: stored.httpEtag, 'cache-control': `public, max-age=${config.THUMBNAIL_MAX_AGE_SECONDS}` };
    if (etagMatches(c.req.header('if-none-match'), stored.httpEtag)) {
      await stored.body.cancel();
      return c.body(null, 304, headers);
    }
    return c.body(stored.body as unknown as ReadableStream, 200, { ...headers, 'content-type': stored.contentType, 'x-content-type-options': 'nosniff' });
  });

  const list = createRoute({
    method: 'get',
    path: '/v1/items',
    summary: "List the stored ids page by page (admin): the active index's list-vectors",
    security: [{ admin: [] }],
    middleware: [adminAuth],
    request: { query: schemas.list },
    responses: {
      200: jsonResponse('A page of ids, in the order the index keeps them', itemListSchema),
      400: failureResponse('Invalid parameter, or a cursor that is not the nextCursor of this listing'),
      ...adminResponses,
      500: failureResponse('The index is bound without its REST URL, which listing needs'),
    },
  });
  serveRoute(app, list, requestRules, async (c, { query: { cursor, namespace, count } }) => {
    const { active } = await c.var.services.generations.resolve();
    const after = cursor === undefined ? undefined : decodeListCursor(cursor, active.name, namespace);
    let page;
    try {
      page = await active.index.list(count, after);
    } catch (error) {
      // Ours in form, refused by the index: Vectorize's cursors expire.
      if (after !== undefined && error instanceof ApiError && (error.status < 500 || error.code === 'index_error'))
        throw badRequest('invalid_cursor', `the index refused the cursor (${error.message}); start again without a cursor`);
      throw error;
    }
    const listed = page.vectors.map((v) => v.id);
    const ids = namespace === undefined ? listed : await inNamespace(active.index, listed, namespace);
    const nextCursor = page.isTruncated && page.nextCursor ? encodeListCursor(active.name, namespace, page.nextCursor) : null;
    const body: z.input<typeof itemListSchema> = {
      index: active.name,
      ids,
      count: ids.length,
      totalCount: page.totalCount,
      nextCursor,
      cursorExpiresAt: nextCursor ? (page.cursorExpirationTimestamp ?? null) : null,
    };
    return c.json(body, 200, { 'cache-control': 'no-store' });
  });

  const upsert = jsonPost('/v1/items', schemas.upsert, {
    summary: 'Upsert items (admin): each embedded from text or image, or given as a vector',
    description:
      'Stored with metadata.model, the model of the vector. During a model migration text and image items go to both indexes, each embedded by its own ' +
      "embedders; a vector item goes to the index whose model its metadata.model names (the active one's by default). " +
      "An item's thumbnail is stored for GET /v1/items/{id}/thumbnail (the THUMBNAILS binding); an item upserted without one loses a stored one.",
    security: [{ admin: [] }],
    middleware: [adminAuth, limitBody(() => config.MAX_ADMIN_BODY_BYTES)],
    responses: {
      202: accepted('Upsert accepted'),
      400: failureResponse('Invalid item'),
      ...adminResponses,
      413: failureResponse('Body too large'),
      500: failureResponse('A thumbnail was given, but the worker has no THUMBNAILS binding'),
      502: failureResponse("An index's embedders serve another model than the index holds, or vectors of other dimensions"),
      503: failureResponse('Embedder, index or thumbnail store unavailable'),
    },
  });
  serveRoute(app, upsert, requestRules, async (c, { json: { items } }) => {
    const { generations, imageLimits } = c.var.services;
    const defer = deferFor(c);
    const { writes, active } = await generations.resolve();
    const targets = await Promise.all(
      writes.map(async (generation) => {
        const [model, dimensions] = await Promise.all([generations.modelForWrite(generation, defer), generation.index.dimensions()]);
        return { generation, model, dimensions };
      }),
    );

    // A vector is in one model's space: the index of the model its metadata names, else the active one.
    const claimedModel = (item: (typeof items)[number]) => (typeof item.metadata?.model === 'string' ? item.metadata.model : undefined);
    const goesTo = (item: (typeof items)[number], target: (typeof targets)[number]) => {
      if (item.vector === undefined) return true;
      const claimed = claimedModel(item);
      return claimed === undefined ? target.generation === active : claimed === target.model.id;
    };
    items.forEach((item, i) => {
      if (item.vector === undefined) return;
      const to = targets.filter((target) => goesTo(item, target));
      if (to.length === 0)
        throw badRequest(
          'model_mismatch',
          `items.${i}.metadata.model is ${claimedModel(item)}, but the indexes hold ${targets.map((t) => `${t.model.id} (${t.generation.name})`).join(' and ')}`,
        );
      for (const { dimensions } of to)
        if (item.vector.length !== dimensions)
          throw badRequest('dimension_mismatch', `items.${i}.vector has ${item.vector.length} dimensions; the index has ${dimensions}`);
    });

    const thumbnails = new Map<string, Thumbnail>();
    items.forEach((item, i) => {
      if (item.thumbnail !== undefined) thumbnails.set(item.id, readThumbnail(item.thumbnail, i, item.id));
    });
    const store = thumbnailStoreOf(c.env);
    if (thumbnails.size > 0 && !store) throw noBinding();

    // Each image is read once, whatever the number of indexes it goes to.
    const images = new Map(
      await Promise.all(items.filter((i) => i.image !== undefined).map(async (i) => [i.id, await resolveImage(i.image!, imageLimits)] as const)),
    );

    const writeTo = async ({ generation, model, dimensions }: { generation: Generation; model: ModelInfo; dimensions: number }): Promise<IndexWrite | undefined> => {
      const mine = items.filter((item) => goesTo(item, { generation, model, dimensions }));
      const texts = mine.filter((i) => i.text !== undefined);
      const pictures = mine.filter((i) => i.image !== undefined);
      const [textRows, imageRows] = await Promise.all([
        inChunks(texts, EMBED_CHUNK, (chunk) => generation.client.embedTexts(chunk.map((i) => i.text!))),
        inChunks(pictures, EMBED_CHUNK, (chunk) => generation.embeddings.embedImagesAndRemember(chunk.map((i) => images.get(i.id)!))),
      ]);
      const embedded = new Map<string, Float32Array>();
      texts.forEach((item, i) => embedded.set(item.id, textRows[i]!));
      pictures.forEach((item, i) => embedded.set(item.id, imageRows[i]!));

      const vectors: VectorizeVector[] = mine.map((item) => {
        const values = item.vector ?? Array.from(embedded.get(item.id)!);
        if (values.length !== dimensions)
          throw new ApiError(502, 'index_error', `the embedder's ${values.length}-dimensional vectors do not fit the ${dimensions}-dimensional index ${generation.name}`);
        return {
          id: item.id,
          values,
          ...(item.namespace !== undefined ? { namespace: item.namespace } : {}),
          metadata: { ...item.metadata, model: model.id },
        };
      });
      if (vectors.length === 0) return undefined;
      const { mutationId } = await generation.index.upsert(vectors);
      await generations.recordWrite(generation, mutationId, model.id);
      return { index: generation.name, mutationId, count: vectors.length };
    };
    await store?.replace(thumbnails, items.filter((item) => !thumbnails.has(item.id)).map((item) => item.id));
    const written = (await Promise.all(targets.map(writeTo))).filter((w): w is IndexWrite => w !== undefined);
    await bumpVersion(c);
    return c.json(mutation(written, items.length, targets.length, items.map((i) => i.id)), 202);
  });

  const removeMany = jsonPost('/v1/items:delete', schemas.remove, {
    summary: 'Delete items by id (admin), from every configured index',
    security: [{ admin: [] }],
    middleware: [adminAuth, limitBody(() => config.MAX_JSON_BYTES)],
    responses: { 202: accepted('Deletion accepted'), 400: failureResponse('Invalid ids'), ...adminResponses, 413: failureResponse('Body too large') },
  });
  serveRoute(app, removeMany, requestRules, async (c, { json: { ids } }) => c.json(await removeEverywhere(c, [...new Set(ids)], ids.length), 202));

  const removeOne = createRoute({
    method: 'delete',
    path: '/v1/items/{id}',
    summary: 'Delete an item (admin), from every configured index',
    security: [{ admin: [] }],
    middleware: [adminAuth],
    request: { params: schemas.params },
    responses: { 202: accepted('Deletion accepted'), 400: failureResponse('Invalid id'), ...adminResponses },
  });
  serveRoute(app, removeOne, requestRules, async (c, { params: { id } }) => c.json(await removeEverywhere(c, [id]), 202));
}
