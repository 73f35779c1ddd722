// The models served (GET /v1/models, OpenAI's shape), liveness, readiness and
// Prometheus metrics.
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { errorBody } from '../../../common/http/api-error.ts';
import { failureResponse, jsonResponse, serveRoute } from '../../../common/http/routes.ts';
import type { EmbedderDeps } from '../context.ts';
import { requestRules } from '../validation.ts';

const scoringSchema = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('softmax'), scale: z.number() }),
    z.object({ kind: z.literal('sigmoid'), scale: z.number(), bias: z.number() }),
    z.object({ kind: z.literal('unavailable'), reason: z.string() }),
  ])
  .meta({
    id: 'ModelScoring',
    description:
      'How the model turns cosines into probabilities (/v1/classify, /v1/similarity): softmax over the labels at scale (CLIP), ' +
      "sigmoid(scale · cosine + bias) per pair (SigLIP), or unavailable, with the reason (a SigLIP whose files hold neither learned value: it still embeds and searches).",
  });

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
        logit_scale: z.number().optional().meta({ description: 'The multiplier of cosines (scoring.scale); absent where scoring is unavailable.' }),
        scoring: scoringSchema,
        family: z.string().meta({ description: 'The model family (model/families/): clip, siglip, ...' }),
        notice: z
          .string()
          .optional()
          .meta({ description: 'What people should know before trusting its results: the demo model, or random weights. Absent for other models.' }),
      }),
    ),
  })
  .meta({ id: 'Models', description: 'Every model served; the first answers requests that name none.' });

const readySchema = z.object({
  status: z.literal('ready'),
  model: z.string().meta({ description: 'The default model.' }),
  provider: z.string(),
  models: z.array(z.object({ id: z.string(), provider: z.string(), ready: z.boolean() })),
});

export function operationRoutes(app: OpenAPIHono, { models, metrics, metricsToken }: EmbedderDeps): void {
  const list = createRoute({
    method: 'get',
    path: '/v1/models',
    summary: 'The models served, the default first, each with its dimensions, input size and temperature',
    responses: { 200: jsonResponse('Every model served', modelsSchema) },
  });
  serveRoute(app, list, requestRules, (c) =>
    c.json({
      object: 'list',
      data: models.all.map((service) => {
        const { clip, notice } = service;
        return {
          id: service.name,
          object: 'model' as const,
          created: 0,
          owned_by: 'crossmodal',
          dim: clip.dim,
          layout: clip.layout,
          provider: clip.provider,
          image_size: clip.imageSize,
          context_length: clip.contextLength,
          ...(clip.logitScale !== null ? { logit_scale: clip.logitScale } : {}),
          scoring: clip.scoring,
          family: clip.family,
          ...(notice ? { notice } : {}),
        };
      }),
    } satisfies z.input<typeof modelsSchema>),
  );

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
    summary: 'Readiness: every model is loaded and warmed up',
    responses: {
      200: jsonResponse('Ready', readySchema),
      503: failureResponse('A model is still warming up (not_ready)'),
    },
  });
  serveRoute(app, ready, requestRules, (c) => {
    if (!models.ready) {
      const warming = models.all.filter((service) => !service.ready).map((service) => service.name);
      return c.json(errorBody('not_ready', `warming up: ${warming.join(', ')}`), 503);
    }
    const { default: first } = models;
    return c.json({
      status: 'ready',
      model: first.name,
      provider: first.clip.provider,
      models: models.all.map((service) => ({ id: service.name, provider: service.clip.provider, ready: service.ready })),
    } satisfies z.input<typeof readySchema>);
  });

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
