// The OpenAPI 3.1 description served at /openapi.json. Request bodies come
// from the zod schemas the routes validate with, so the two cannot drift.
import { z } from 'zod';
import type { Config } from './config.ts';
import { filterSchema, itemSchemas, searchSchemas, topKCap } from './schemas.ts';

const json = (schema: z.ZodType) => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: ref('Error') } } });
const searchResponses = {
  200: {
    description: 'Results, best first. `cache` says whether they came from the edge cache.',
    headers: {
      ETag: { schema: { type: 'string' } },
      'Cache-Control': { schema: { type: 'string' } },
      'X-Cache': { schema: { type: 'string', enum: ['hit', 'miss', 'stale'] } },
    },
    content: { 'application/json': { schema: ref('SearchResponse') } },
  },
  304: { description: 'Not modified (If-None-Match matched the ETag).' },
  400: errorResponse('Invalid parameter'),
  404: errorResponse('No item with that id (id queries)'),
  413: errorResponse('Body too large'),
  415: errorResponse('Unsupported content type'),
  429: errorResponse('Rate limited (see Retry-After)'),
  503: errorResponse('Embedder or index unavailable and nothing cached (see Retry-After)'),
};
const adminResponses = {
  401: errorResponse('No bearer token'),
  403: errorResponse('Wrong token, or the admin API is disabled'),
};

export function openApiDocument(config: Config): Record<string, unknown> {
  const search = searchSchemas(config);
  const items = itemSchemas(config);
  const cap = topKCap(config, 'none');
  const param = (name: string, schema: Record<string, unknown>, description: string, required = false) => ({
    name,
    in: 'query',
    required,
    description,
    schema,
  });
  const optionParams = [
    param('k', { type: 'integer', minimum: 1, maximum: cap, default: 10 }, `Results to return (at most ${topKCap(config, 'all')} with metadata=all).`),
    param('namespace', { type: 'string', maxLength: 64 }, 'Search only this namespace.'),
    param('filter', { type: 'string' }, 'Vectorize metadata filter as JSON, e.g. {"kind":"photo","year":{"$gte":2020}}.'),
    param('metadata', { type: 'string', enum: ['none', 'indexed', 'all'], default: 'none' }, 'Metadata to return with each result.'),
  ];
  return {
    openapi: '3.1.0',
    info: {
      title: 'crossmodal search',
      version: '1.0.0',
      description: 'Text-and-image semantic search at the edge. Errors always have the shape { error: { code, message } }.',
    },
    paths: {
      '/v1/search': {
        get: {
          summary: 'Search by text',
          parameters: [param('q', { type: 'string', maxLength: config.MAX_QUERY_CHARS }, 'Query text.', true), ...optionParams],
          responses: searchResponses,
        },
        post: {
          summary: 'Search by text, image, vector or stored item; or by a raw image body',
          parameters: optionParams.map((p) => ({ ...p, description: `${p.description} Only with a raw image body.` })),
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: ref('SearchRequest') },
              'image/*': { schema: { type: 'string', format: 'binary', maxLength: config.MAX_IMAGE_BYTES } },
            },
          },
          responses: searchResponses,
        },
      },
      '/v1/items/{id}': {
        get: {
          summary: 'A stored item',
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string', maxLength: 64 } },
            param('values', { type: 'string', enum: ['true', 'false', '1', '0'] }, 'Include the vector.'),
          ],
          responses: {
            200: { description: 'The item', content: { 'application/json': { schema: ref('Item') } } },
            404: errorResponse('No such item'),
            429: errorResponse('Rate limited'),
          },
        },
        delete: {
          summary: 'Delete an item (admin)',
          security: [{ admin: [] }],
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', maxLength: 64 } }],
          responses: { 202: { description: 'Deletion accepted', content: { 'application/json': { schema: ref('Mutation') } } }, ...adminResponses },
        },
      },
      '/v1/items': {
        post: {
          summary: 'Upsert items (admin): each embedded from text or image, or given as a vector',
          security: [{ admin: [] }],
          requestBody: { required: true, content: { 'application/json': { schema: json(items.upsert) } } },
          responses: {
            202: { description: 'Upsert accepted', content: { 'application/json': { schema: ref('Mutation') } } },
            400: errorResponse('Invalid item'),
            ...adminResponses,
            503: errorResponse('Embedder or index unavailable'),
          },
        },
      },
      '/v1/items:delete': {
        post: {
          summary: 'Delete items by id (admin)',
          security: [{ admin: [] }],
          requestBody: { required: true, content: { 'application/json': { schema: json(items.remove) } } },
          responses: { 202: { description: 'Deletion accepted', content: { 'application/json': { schema: ref('Mutation') } } }, ...adminResponses },
        },
      },
      '/healthz': {
        get: {
          summary: 'Worker, embedder and index health with latencies',
          responses: { 200: { description: 'All reachable' }, 503: { description: 'Embedder or index unreachable' } },
        },
      },
    },
    components: {
      securitySchemes: { admin: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } },
        },
        SearchRequest: json(search.post),
        Filter: json(filterSchema),
        SearchResponse: {
          type: 'object',
          required: ['query', 'results', 'model', 'cache', 'timings'],
          properties: {
            query: { type: 'object', description: 'The search as understood: type, canonical text / sha256 / id / dimensions, and options.' },
            results: {
              type: 'array',
              items: {
                type: 'object',
                required: ['id', 'score'],
                properties: { id: { type: 'string' }, score: { type: 'number' }, metadata: { type: 'object' } },
              },
            },
            model: { type: ['string', 'null'] },
            cache: { type: 'string', enum: ['hit', 'miss', 'stale'] },
            timings: {
              type: 'object',
              properties: { embedMs: { type: 'number' }, searchMs: { type: 'number' }, totalMs: { type: 'number' } },
            },
          },
        },
        Item: {
          type: 'object',
          required: ['id', 'metadata'],
          properties: { id: { type: 'string' }, namespace: { type: 'string' }, metadata: { type: 'object' }, values: { type: 'array', items: { type: 'number' } } },
        },
        Mutation: {
          type: 'object',
          required: ['mutationId', 'count'],
          properties: { mutationId: { type: 'string' }, count: { type: 'integer' }, ids: { type: 'array', items: { type: 'string' } } },
        },
      },
    },
  };
}
