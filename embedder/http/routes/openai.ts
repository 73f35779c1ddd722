// POST /v1/embeddings, compatible with OpenAI's embeddings API (the official
// client works unchanged), extended with { image } inputs in the same space.
import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { failureResponse, jsonPost, jsonResponse, serveRoute } from '../../../common/http/routes.ts';
import { resolveImageReference } from '../../service/image-input.ts';
import { ModelNotFoundError } from '../../service/model-set.ts';
import type { EmbedderDeps } from '../context.ts';
import { ApiError } from '../errors.ts';
import { limitedList, limitedText, modelField, requestRules } from '../validation.ts';

const responseSchema = z
  .object({
    object: z.literal('list'),
    data: z.array(
      z.object({
        object: z.literal('embedding'),
        index: z.number().int(),
        embedding: z.union([z.array(z.number()), z.string().meta({ description: 'little-endian float32, base64 (encoding_format: base64)' })]),
      }),
    ),
    model: z.string(),
    usage: z.object({ prompt_tokens: z.number().int(), total_tokens: z.number().int() }),
  })
  .meta({ id: 'EmbeddingsResponse' });

/** OpenAI's error body, which its clients read (`error.code`, `error.type`); it holds the embedder's { code, message } too. */
const openAiErrorSchema = z
  .object({ error: z.object({ message: z.string(), type: z.string(), param: z.string().nullable(), code: z.string() }) })
  .meta({ id: 'OpenAIError' });

export function openAiRoutes(app: OpenAPIHono, { models, limits }: EmbedderDeps): void {
  const text = limitedText(limits);
  const item = z.union([text, z.object({ text }).strict(), z.object({ image: z.string().min(1) }).strict()]);
  const schema = z
    .object({
      input: z.union([item, limitedList(item, limits)]).meta({ description: 'A text, { text }, { image } (a data URL, base64 or an http(s) URL), or a list of them.' }),
      model: modelField,
      encoding_format: z.enum(['float', 'base64']).default('float'),
      dimensions: z.number().int().positive().optional(),
      user: z.string().optional(),
    })
    .meta({ id: 'EmbeddingsRequest' });

  const route = jsonPost('/v1/embeddings', schema, {
    summary: "Embeddings, compatible with OpenAI's embeddings API, for texts and images in one space",
    responses: {
      200: jsonResponse('One embedding per input, in order', responseSchema),
      400: failureResponse('Invalid request or image'),
      403: failureResponse('Image URL points at a private address'),
      404: jsonResponse('A model this embedder does not serve (model_not_found, in OpenAI\'s shape), with the names of those it serves', openAiErrorSchema),
      413: failureResponse('Image or body too large'),
      429: failureResponse('Queue full (see Retry-After)'),
    },
  });
  serveRoute(app, route, requestRules, async (c, { json: body }) => {
    if (body.model !== undefined && !models.serves(body.model)) {
      const { message } = new ModelNotFoundError(body.model, models.names);
      const notFound = { message, type: 'invalid_request_error', param: 'model', code: 'model_not_found' };
      return c.json({ error: notFound } satisfies z.input<typeof openAiErrorSchema>, 404);
    }
    const service = models.select(body.model);
    const clip = service.clip;
    if (body.dimensions !== undefined && body.dimensions !== clip.dim)
      throw new ApiError(400, 'invalid_request', `dimensions must be ${clip.dim} for ${service.name} (embeddings are not truncated)`);

    const items = (Array.isArray(body.input) ? body.input : [body.input]).map((i) => (typeof i === 'string' ? { text: i } : i));
    const textAt: number[] = [];
    const imageAt: number[] = [];
    items.forEach((i, n) => ('text' in i ? textAt : imageAt).push(n));
    const texts = textAt.map((n) => (items[n] as { text: string }).text);
    const imageBytes = await Promise.all(imageAt.map((n) => resolveImageReference((items[n] as { image: string }).image, limits)));
    const [textRows, imageRows] = await service.embedTextsAndImages(texts, imageBytes, c.req.raw.signal);
    const rows: Float32Array[] = new Array(items.length);
    textAt.forEach((n, i) => (rows[n] = textRows[i]!));
    imageAt.forEach((n, i) => (rows[n] = imageRows[i]!));

    const tokens = texts.length ? clip.tokenize(texts).lengths.reduce((a, b) => a + b, 0) : 0;
    return c.json({
      object: 'list' as const,
      data: rows.map((r, index) => ({
        object: 'embedding' as const,
        index,
        embedding:
          body.encoding_format === 'base64' ? Buffer.from(r.buffer, r.byteOffset, r.byteLength).toString('base64') : Array.from(r),
      })),
      model: service.name,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    } satisfies z.input<typeof responseSchema>);
  });
}
