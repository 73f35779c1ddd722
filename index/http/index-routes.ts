// Index lifecycle: create, list, get, delete.
import type { Hono } from 'hono';
import { badRequest, CODES } from '../errors.ts';
import { LIMITS, utf8Bytes } from '../limits.ts';
import type { Catalog } from '../storage/catalog.ts';
import type { DistanceMetric, IndexConfig } from '../types.ts';
import { limitBody, readJson } from './body.ts';
import { ok } from './envelope.ts';
import { createIndexBody, PRESETS } from './schemas.ts';

/** Names double as directory names: lowercase letters, digits and dashes. */
const NAME = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

/** The REST shape of an index (snake_case timestamps, as upstream). */
export function describeIndex(config: IndexConfig) {
  return {
    name: config.name,
    ...(config.description !== undefined ? { description: config.description } : {}),
    config: { dimensions: config.dimensions, metric: config.metric },
    created_on: config.createdOn,
    modified_on: config.modifiedOn,
  };
}

export function indexRoutes(app: Hono, catalog: Catalog): void {
  app.post('/', limitBody(LIMITS.maxJsonBytes), async (c) => {
    const body = await readJson(c, createIndexBody);
    if (!NAME.test(body.name) || utf8Bytes(body.name) > LIMITS.maxIndexNameBytes)
      throw badRequest(
        CODES.invalidIndexConfig,
        `index name must be 1 to ${LIMITS.maxIndexNameBytes} lowercase letters, digits or dashes, not starting or ending with a dash`,
      );
    const now = new Date().toISOString();
    const settings: { dimensions: number; metric: DistanceMetric; preset?: string } =
      'preset' in body.config ? { ...PRESETS[body.config.preset], preset: body.config.preset } : body.config;
    const config: IndexConfig = { name: body.name, ...settings, createdOn: now, modifiedOn: now };
    if (body.description !== undefined) config.description = body.description;
    return ok(c, describeIndex(await catalog.create(config)), 201);
  });

  app.get('/', (c) => ok(c, catalog.list().map(describeIndex)));

  app.get('/:name', (c) => ok(c, describeIndex(catalog.get(c.req.param('name')).config)));

  app.delete('/:name', async (c) => {
    await catalog.delete(c.req.param('name'));
    return ok(c, null);
  });
}
