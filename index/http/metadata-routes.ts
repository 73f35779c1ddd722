// Metadata indexes: create, list, delete. Like upstream, a new index covers
// only vectors written after it exists.
import { randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import { badRequest, CODES } from '../errors.ts';
import { LIMITS } from '../limits.ts';
import type { Catalog } from '../storage/catalog.ts';
import { limitBody, readJson } from './body.ts';
import { ok } from './envelope.ts';
import { metadataIndexCreateBody, metadataIndexDeleteBody } from './schemas.ts';

export function metadataRoutes(app: Hono, catalog: Catalog): void {
  app.post('/:name/metadata_index/create', limitBody(LIMITS.maxJsonBytes), async (c) => {
    const durable = catalog.get(c.req.param('name'));
    const { propertyName, indexType } = await readJson(c, metadataIndexCreateBody);
    if (durable.index.hasMetadataIndex(propertyName))
      throw badRequest(CODES.metadataIndex, `a metadata index on "${propertyName}" already exists`);
    if (durable.index.metadataIndexes().length >= LIMITS.maxMetadataIndexes)
      throw badRequest(CODES.metadataIndex, `an index can have at most ${LIMITS.maxMetadataIndexes} metadata indexes`);
    const mutationId = randomUUID();
    await durable.commit({ kind: 'createMetadataIndex', mutationId, timestamp: Date.now(), propertyName, indexType });
    return ok(c, { mutationId });
  });

  app.get('/:name/metadata_index/list', (c) =>
    ok(c, { metadataIndexes: catalog.get(c.req.param('name')).index.metadataIndexes() }),
  );

  app.post('/:name/metadata_index/delete', limitBody(LIMITS.maxJsonBytes), async (c) => {
    const durable = catalog.get(c.req.param('name'));
    const { propertyName } = await readJson(c, metadataIndexDeleteBody);
    if (!durable.index.hasMetadataIndex(propertyName))
      throw badRequest(CODES.metadataIndex, `there is no metadata index on "${propertyName}"`);
    const mutationId = randomUUID();
    await durable.commit({ kind: 'deleteMetadataIndex', mutationId, timestamp: Date.now(), propertyName });
    return ok(c, { mutationId });
  });
}
