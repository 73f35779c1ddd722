// Vector operations on one index: insert, upsert, query, get/delete by id,
// list ids, info.
import { randomUUID } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { compileFilter } from '../engine/filter.ts';
import { ApiError, badRequest, CODES } from '../errors.ts';
import { LIMITS } from '../limits.ts';
import type { Catalog } from '../storage/catalog.ts';
import type { QueryRequest } from '../types.ts';
import { describeIssues, limitBody, readJson, readVectorUpload } from './body.ts';
import { ok } from './envelope.ts';
import { idsBody, listVectorsQuery, queryBody, unparsableBehavior } from './schemas.ts';
import { parseVectorUpload } from './vectors.ts';

export function vectorRoutes(app: Hono, catalog: Catalog): void {
  const write = (kind: 'insert' | 'upsert') => async (c: Context) => {
    const durable = catalog.get(c.req.param('name')!);
    const behavior = unparsableBehavior.safeParse(c.req.query('unparsable-behavior'));
    if (!behavior.success) throw badRequest(CODES.badRequestBody, `unparsable-behavior: ${describeIssues(behavior.error)}`);
    const text = await readVectorUpload(c);
    const { vectors, values } = parseVectorUpload(text, durable.config.dimensions, behavior.data ?? 'error');
    durable.index.checkNamespaces(vectors);
    const mutationId = randomUUID();
    await durable.commit({ kind, mutationId, timestamp: Date.now(), vectors, values });
    return ok(c, { mutationId });
  };
  // Upload bodies are capped at LIMITS.maxUploadBytes by the app-wide limit (app.ts).
  app.post('/:name/insert', write('insert'));
  app.post('/:name/upsert', write('upsert'));

  app.post('/:name/query', limitBody(LIMITS.maxJsonBytes), async (c) => {
    const durable = catalog.get(c.req.param('name'));
    const body = await readJson(c, queryBody);
    const { dimensions } = durable.config;

    const topK = body.topK ?? LIMITS.defaultTopK;
    const returnValues = body.returnValues ?? false;
    const returnMetadata = body.returnMetadata ?? 'none';
    const cap = returnValues || returnMetadata === 'all' ? LIMITS.maxTopKWithPayload : LIMITS.maxTopK;
    if (topK > cap) throw badRequest(CODES.topKTooHigh, `max top K is ${cap}, but got ${topK}`);

    let vector: Float32Array;
    if (body.vector !== undefined && body.vectorId !== undefined)
      throw badRequest(CODES.badRequestBody, 'send either "vector" or "vectorId", not both');
    if (body.vectorId !== undefined) {
      const stored = durable.index.valuesOf(body.vectorId);
      if (!stored) throw new ApiError(404, CODES.vectorNotFound, `no vector with id ${JSON.stringify(body.vectorId)}`);
      vector = stored;
    } else if (body.vector !== undefined) {
      if (body.vector.length !== dimensions)
        throw badRequest(
          CODES.queryDimensions,
          `query vector has ${body.vector.length} dimensions, but the index expects ${dimensions}`,
        );
      vector = Float32Array.from(body.vector);
      if (vector.some((v) => !Number.isFinite(v)))
        throw badRequest(CODES.invalidValues, 'query vector values must be finite float32 numbers');
    } else {
      throw badRequest(CODES.badRequestBody, 'vector: Required (or vectorId to query by a stored vector)');
    }

    const request: QueryRequest = { vector, topK, returnValues, returnMetadata };
    if (body.filter !== undefined && body.filter !== null) request.filter = compileFilter(body.filter);
    if (body.namespace !== undefined && body.namespace !== null) request.namespace = body.namespace;
    const started = performance.now();
    const matches = durable.index.query(request);
    c.header('Server-Timing', `search;dur=${(performance.now() - started).toFixed(3)}`);
    return ok(c, { count: matches.length, matches });
  });

  app.post('/:name/get_by_ids', limitBody(LIMITS.maxJsonBytes), async (c) => {
    const durable = catalog.get(c.req.param('name'));
    const { ids } = await readJson(c, idsBody);
    return ok(c, durable.index.getByIds(ids));
  });

  app.post('/:name/delete_by_ids', limitBody(LIMITS.maxJsonBytes), async (c) => {
    const durable = catalog.get(c.req.param('name'));
    const { ids } = await readJson(c, idsBody);
    const mutationId = randomUUID();
    await durable.commit({ kind: 'delete', mutationId, timestamp: Date.now(), ids });
    return ok(c, { mutationId });
  });

  app.get('/:name/list', (c) => {
    const durable = catalog.get(c.req.param('name'));
    const query = listVectorsQuery.safeParse(c.req.query());
    if (!query.success) throw badRequest(CODES.badRequestBody, describeIssues(query.error));
    return ok(c, durable.index.listIds(query.data.count ?? LIMITS.defaultListCount, query.data.cursor));
  });

  app.get('/:name/info', (c) => ok(c, catalog.get(c.req.param('name')).index.info()));
}
