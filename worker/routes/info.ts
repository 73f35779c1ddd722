// GET /v1/info: what a search client needs to know before its first query:
// the model searches use (its id, dimensions and the embedder's notice, e.g.
// that it is a demo or random-weight model), the metadata fields that can be
// filtered on (FILTERABLE_FIELDS) and the limits of a search. Public and
// cacheable: the model is asked once per isolate and remembered in KV
// (worker/embedding/query-embedder.ts), so this answers while the embedder is
// down once the model has been seen.
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { failureResponse, jsonResponse, serveRoute } from '../../common/http/routes.ts';
import { deferFor, type AppEnv } from '../context.ts';
import { rateLimit } from '../middleware/rate-limit.ts';
import { requestRules } from '../request.ts';
import { MAX_QUERY_PARTS, topKCap } from '../schemas.ts';

/** How long browsers and CDNs may keep the answer. */
const INFO_MAX_AGE_SECONDS = 60;

export const infoSchema = z
  .object({
    model: z
      .object({
        id: z.string(),
        dim: z.number().int(),
        notice: z.string().optional().meta({ description: 'Shown to people: e.g. that the model is a demo or has random weights.' }),
      })
      .nullable()
      .meta({ description: 'The model searches use; null while its embedder is unreachable and the model was never seen.' }),
    filterable: z
      .array(z.object({ name: z.string(), type: z.enum(['string', 'number', 'boolean']) }))
      .meta({ description: 'Metadata fields with a metadata index (FILTERABLE_FIELDS): the only ones a filter can use.' }),
    limits: z.object({
      maxK: z.number().int().meta({ description: 'Results per page with metadata=all.' }),
      maxQueryChars: z.number().int(),
      maxImageBytes: z.number().int(),
      maxQueryParts: z.number().int(),
    }),
  })
  .meta({ id: 'Info' });

const info = createRoute({
  method: 'get',
  path: '/v1/info',
  summary: 'The model searches use, the filterable metadata fields and the search limits',
  middleware: [rateLimit],
  responses: {
    200: jsonResponse('What a search client needs to know', infoSchema),
    429: failureResponse('Rate limited'),
  },
});

export function infoRoutes(app: OpenAPIHono<AppEnv>): void {
  serveRoute(app, info, requestRules, async (c) => {
    const { config, generations } = c.var.services;
    const { active } = await generations.resolve();
    const model = await active.embeddings.model(deferFor(c)).catch(() => undefined);
    const body: z.input<typeof infoSchema> = {
      model: model ? { id: model.id, dim: model.dim, ...(model.notice ? { notice: model.notice } : {}) } : null,
      filterable: config.FILTERABLE_FIELDS,
      limits: {
        maxK: topKCap(config, 'all'),
        maxQueryChars: config.MAX_QUERY_CHARS,
        maxImageBytes: config.MAX_IMAGE_BYTES,
        maxQueryParts: MAX_QUERY_PARTS,
      },
    };
    // An unknown model is worth asking again soon.
    return c.json(body, 200, { 'cache-control': model ? `public, max-age=${INFO_MAX_AGE_SECONDS}` : 'no-store' });
  });
}
