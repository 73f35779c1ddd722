// The model served (GET /v1/models, OpenAI's shape), liveness, readiness and
// Prometheus metrics.
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { errorBody } from '../../../common/http/api-error.ts';
import { failureResponse, jsonResponse, serveRoute } from '../../../common/http/routes.ts';
import type { EmbedderDeps } from '../context.ts';
import { requestRules } from '../validation.ts';

const modelsSchema = z
  .object({
    object: z.literal('list'),
    data: z.array(
      z.object({
        id: z.string(),
        object: z.literal('model'),
        created: z.number().int(),
        owned_by: z.string(),
        dim: z.number().int(),
        layout: z.string(),
        provider: z.string(),
        image_size: z.number().int(),
        context_length: z.number().int(),
        logit_scale: z.number(),
      }),
    ),
  })
  .meta({ id: 'Models' });

const readySchema = z.object({ status: z.literal('ready'), model: z.string(), provider: z.string() });

export function operationRoutes(app: OpenAPIHono, { service, metrics, metricsToken }: EmbedderDeps): void {
  const models = createRoute({
    method: 'get',
    path: '/v1/models',
    summary: 'The model served, with its dimensions, input size and temperature',
    responses: { 200: jsonResponse('One model', modelsSchema) },
  });
  serveRoute(app, models, requestRules, (c) => {
    const clip = service.clip;
    return c.json({
      object: 'list',
      data: [
        {
          id: clip.name,
          object: 'model',
          created: 0,
          owned_by: 'crossmodal',
          dim: clip.dim,
          layout: clip.layout,
          provider: clip.provider,
          image_size: clip.imageSize,
          context_length: clip.contextLength,
          logit_scale: clip.logitScale,
        },
      ],
    } satisfies z.input<typeof modelsSchema>);
  });

  const health = createRoute({
    method: 'get',
    path: '/healthz',
    security: [], // outside /v1: no token
    summary: 'Liveness',
    responses: { 200: jsonResponse('The process serves', z.object({ status: z.literal('ok') })) },
  });
  serveRoute(app, health, requestRules, (c) => c.json({ status: 'ok' }));

  const ready = createRoute({
    method: 'get',
    path: '/readyz',
    security: [], // outside /v1: no token
    summary: 'Readiness: the model is loaded and warmed up',
    responses: {
      200: jsonResponse('Ready', readySchema),
      503: failureResponse('Still warming up (not_ready)'),
    },
  });
  serveRoute(app, ready, requestRules, (c) =>
    service.ready
      ? c.json({ status: 'ready', model: service.clip.name, provider: service.clip.provider } satisfies z.input<typeof readySchema>)
      : c.json(errorBody('not_ready', 'model warming up'), 503),
  );

  const prometheus = createRoute({
    method: 'get',
    path: '/metrics',
    // Outside /v1: EMBEDDER_METRICS_TOKEN when set, else public.
    security: metricsToken ? [{ metrics: [] }] : [],
    summary: 'Prometheus metrics: requests, latency, batches, queues, image decodes, the decode budget, the model',
    responses: {
      200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } },
      ...(metricsToken ? { 401: failureResponse('No or wrong EMBEDDER_METRICS_TOKEN') } : {}),
    },
  });
  serveRoute(app, prometheus, requestRules, async (c) =>
    c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }),
  );
}
