// Text × image similarity and zero-shot classification with the model's own
// scoring (model/scoring.ts): CLIP's softmax at its temperature, SigLIP's sigmoid per pair.
// A model whose scoring is unavailable (a SigLIP without its learned scale and bias) still
// answers cosines; classification, which is nothing but probabilities, is refused (422).
import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { failureResponse, jsonPost, jsonResponse, serveRoute } from '../../../common/http/routes.ts';
import { dotScores } from '../../../native/index.ts';
import { labelProbabilities, pairProbability } from '../../model/scoring.ts';
import { resolveImageReference } from '../../service/image-input.ts';
import type { EmbedderDeps } from '../context.ts';
import { ApiError } from '../errors.ts';
import { limitedList, limitedText, modelField, requestRules, stack } from '../validation.ts';

const similarityResponse = z
  .object({
    model: z.string(),
    scores: z.array(z.array(z.number())).meta({ description: 'Cosine similarity, one row per text, one column per image.' }),
    probabilities: z
      .array(z.array(z.number()))
      .optional()
      .meta({ description: "Models scored per pair (SigLIP): sigmoid(scale · cosine + bias), each text and image's match probability, same layout as scores." }),
    probabilities_unavailable: z
      .string()
      .optional()
      .meta({ description: 'A model scored per pair whose learned scale and bias are unknown (a SigLIP without them): why probabilities is absent, and what the model needs.' }),
  })
  .meta({ id: 'SimilarityResponse' });

const classifyResponse = z
  .object({
    model: z.string(),
    labels: z.array(z.object({ label: z.string(), probability: z.number(), score: z.number() })).meta({ description: 'Most probable first.' }),
  })
  .meta({ id: 'ClassifyResponse' });

const failures = {
  400: failureResponse('Invalid request or image'),
  403: failureResponse('Image URL points at a private address'),
  404: failureResponse('No such model (model_not_found), with the names of those served'),
  413: failureResponse('Image or body too large'),
  429: failureResponse('Queue full (see Retry-After)'),
};

const unavailable = { 422: failureResponse("The model's scoring is unavailable (scoring_unavailable), with the reason: a SigLIP without its learned scale and bias") };

export function scoringRoutes(app: OpenAPIHono, { models, limits }: EmbedderDeps): void {
  const text = limitedText(limits);
  const image = z.string().min(1).meta({ description: 'A data URL, base64 or an http(s) URL.' });
  const similarity = z
    .object({ texts: limitedList(text, limits), images: limitedList(image, limits), model: modelField })
    .meta({ id: 'SimilarityRequest' });
  const classify = z
    .object({
      image,
      labels: limitedList(text.min(1), limits).min(2),
      template: text.default('a photo of a {}.').meta({ description: 'The prompt for each label, which replaces {}.' }),
      model: modelField,
    })
    .meta({ id: 'ClassifyRequest' });

  const similarityRoute = jsonPost('/v1/similarity', similarity, {
    summary: 'Cosine similarity of every text with every image',
    responses: { 200: jsonResponse('The scores', similarityResponse), ...failures },
  });
  serveRoute(app, similarityRoute, requestRules, async (c, { json: body }) => {
    const service = models.select(body.model);
    const images = await Promise.all(body.images.map((i) => resolveImageReference(i, limits)));
    const [t, v] = await service.embedTextsAndImages(body.texts, images, c.req.raw.signal);
    const dim = service.clip.dim;
    const scores = dotScores(stack(t, dim), stack(v, dim), dim);
    const rows = body.texts.map((_, i) => Array.from(scores.subarray(i * v.length, (i + 1) * v.length)));
    const { scoring } = service.clip;
    return c.json({
      model: service.name,
      scores: rows,
      ...(scoring.kind === 'sigmoid' ? { probabilities: rows.map((row) => row.map((cos) => pairProbability(scoring, cos)!)) } : {}),
      ...(scoring.kind === 'unavailable' ? { probabilities_unavailable: scoring.reason } : {}),
    } satisfies z.input<typeof similarityResponse>);
  });

  const classifyRoute = jsonPost('/v1/classify', classify, {
    summary: "Zero-shot classification of an image among labels, with the model's own scoring (CLIP: softmax over the labels; SigLIP: a sigmoid per label)",
    responses: { 200: jsonResponse('The labels, most probable first', classifyResponse), ...failures, ...unavailable },
  });
  serveRoute(app, classifyRoute, requestRules, async (c, { json: body }) => {
    const service = models.select(body.model);
    if (!body.template.includes('{}')) throw new ApiError(400, 'invalid_request', 'template must contain {} where the label goes');
    const { scoring } = service.clip;
    if (scoring.kind === 'unavailable') throw new ApiError(422, 'scoring_unavailable', `model ${service.name} cannot classify: ${scoring.reason}`);
    const image = await resolveImageReference(body.image, limits);
    const prompts = body.labels.map((l) => body.template.replace('{}', l));
    const [t, [v]] = await service.embedTextsAndImages(prompts, [image], c.req.raw.signal);
    const dim = service.clip.dim;
    const cos = Array.from(dotScores(v!, stack(t, dim), dim));
    const probs = labelProbabilities(scoring, cos);
    const labels = body.labels.map((label, i) => ({ label, probability: probs[i]!, score: cos[i]! }));
    return c.json({ model: service.name, labels: labels.sort((a, b) => b.probability - a.probability) } satisfies z.input<typeof classifyResponse>);
  });
}
