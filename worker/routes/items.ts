// Items: GET /v1/items/:id (public); POST /v1/items (batch upsert),
// DELETE /v1/items/:id and POST /v1/items:delete (admin). Every write bumps
// the index version so cached results computed before it stop being served.
import type { VectorizeVector } from '@cloudflare/workers-types/index.ts';
import type { Hono } from 'hono';
import type { AppContext, AppEnv } from '../context.ts';
import { resolveImage } from '../embedding/image-input.ts';
import { ApiError, badRequest, describeIssues } from '../errors.ts';
import { adminAuth } from '../middleware/admin-auth.ts';
import { rateLimit } from '../middleware/rate-limit.ts';
import { limitBody, parseQuery, readJson } from '../request.ts';
import { idSchema } from '../schemas.ts';

const EMBED_CHUNK = 64;

function itemId(c: AppContext): string {
  const parsed = idSchema.safeParse(c.req.param('id'));
  if (!parsed.success) throw badRequest('invalid_parameter', describeIssues(parsed.error, 'id'));
  return parsed.data;
}

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

export function itemRoutes(app: Hono<AppEnv>): void {
  app.get('/v1/items/:id', rateLimit, async (c) => {
    const { index, schemas } = c.var.services;
    const id = itemId(c);
    const { values } = parseQuery(c, schemas.items.get);
    const item = (await index.getByIds([id])).find((v) => v.id === id);
    if (!item) throw new ApiError(404, 'item_not_found', `no item with id ${JSON.stringify(id)}`);
    return c.json(
      {
        id: item.id,
        ...(item.namespace !== undefined && item.namespace !== null ? { namespace: item.namespace } : {}),
        metadata: item.metadata ?? {},
        ...(values === 'true' || values === '1' ? { values: Array.from(item.values) } : {}),
      },
      200,
      { 'cache-control': 'no-store' },
    );
  });

  app.post(
    '/v1/items',
    adminAuth,
    limitBody((c) => c.var.services.config.MAX_ADMIN_BODY_BYTES),
    async (c) => {
      const { index, client, schemas, imageLimits } = c.var.services;
      const { items } = await readJson(c, schemas.items.upsert);
      const dimensions = await index.dimensions();
      items.forEach((item, i) => {
        if (item.vector && item.vector.length !== dimensions)
          throw badRequest('dimension_mismatch', `items.${i}.vector has ${item.vector.length} dimensions; the index has ${dimensions}`);
      });

      const texts = items.filter((i) => i.text !== undefined);
      const images = items.filter((i) => i.image !== undefined);
      const [textRows, imageRows] = await Promise.all([
        inChunks(texts, EMBED_CHUNK, (chunk) => client.embedTexts(chunk.map((i) => i.text!))),
        inChunks(images, EMBED_CHUNK, async (chunk) =>
          client.embedImages(await Promise.all(chunk.map((i) => resolveImage(i.image!, imageLimits)))),
        ),
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
      return c.json({ mutationId, count: vectors.length, ids: vectors.map((v) => v.id) }, 202);
    },
  );

  app.post(
    '/v1/items:delete',
    adminAuth,
    limitBody((c) => c.var.services.config.MAX_JSON_BYTES),
    async (c) => {
      const { index, schemas } = c.var.services;
      const { ids } = await readJson(c, schemas.items.remove);
      const { mutationId } = await index.deleteByIds([...new Set(ids)]);
      await bumpVersion(c);
      return c.json({ mutationId, count: ids.length }, 202);
    },
  );

  app.delete('/v1/items/:id', adminAuth, async (c) => {
    const id = itemId(c);
    const { mutationId } = await c.var.services.index.deleteByIds([id]);
    await bumpVersion(c);
    return c.json({ mutationId, count: 1 }, 202);
  });
}
