// Native embedding routes: JSON or raw float32 out, for the worker and backfill.
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import { failureResponse, jsonPost, serveRoute } from '../../../common/http/routes.ts';
import { checkImageSize } from '../../service/image-input.ts';
import type { EmbedderDeps } from '../context.ts';
import { ApiError } from '../errors.ts';
import type { EmbeddingService } from '../../service/embedding-service.ts';
import { binaryRows, limitedList, limitedText, modelField, requestRules, wantsBinary } from '../validation.ts';

const embeddingsSchema = z
  .object({ model: z.string(), dim: z.number().int(), embeddings: z.array(z.array(z.number())) })
  .meta({ id: 'Embeddings', description: 'One L2-normalised embedding per input, in order.' });

const embedded = {
  description: 'The embeddings: JSON, or with Accept: application/octet-stream little-endian float32 rows end to end.',
  headers: {
    'X-Embedding-Dim': { schema: { type: 'integer' as const }, description: 'Values per row (binary answers)' },
    'X-Embedding-Count': { schema: { type: 'integer' as const }, description: 'Rows (binary answers)' },
  },
  content: {
    'application/json': { schema: embeddingsSchema },
    'application/octet-stream': { schema: { type: 'string' as const, format: 'binary' } },
  },
};

const binaryFile = { type: 'string' as const, format: 'binary' };

export function embedRoutes(app: OpenAPIHono, { models, limits }: EmbedderDeps): void {
  const textSchema = z
    .object({ texts: limitedList(limitedText(limits), limits).optional(), text: limitedText(limits).optional(), model: modelField })
    .refine((b) => (b.texts === undefined) !== (b.text === undefined), 'give exactly one of "texts" (an array) or "text"')
    .meta({ id: 'EmbedTextRequest' });

  const respond = (c: Context, service: EmbeddingService, rows: Float32Array[]) =>
    wantsBinary(c)
      ? binaryRows(rows, service.clip.dim)
      : c.json({ model: service.name, dim: service.clip.dim, embeddings: rows.map((r) => Array.from(r)) } satisfies z.input<typeof embeddingsSchema>);
  const notServed = failureResponse('No such model (model_not_found), with the names of those served');

  const text = jsonPost('/v1/embed/text', textSchema, {
    summary: 'Embed texts',
    responses: {
      200: embedded,
      400: failureResponse('Invalid request'),
      404: notServed,
      413: failureResponse('Body too large'),
      429: failureResponse('Queue full (see Retry-After)'),
    },
  });
  serveRoute(app, text, requestRules, async (c, { json }) => {
    const service = models.select(json.model);
    const texts = json.texts ?? [json.text!];
    return respond(c, service, await service.embedTexts(texts, c.req.raw.signal));
  });

  const image = createRoute({
    method: 'post',
    path: '/v1/embed/image',
    summary: 'Embed images: one as the raw body, or several as the files of a multipart form',
    request: {
      // The body is the image (or a form of them), so the model is named in the query.
      query: z.object({ model: modelField }),
      body: {
        required: true,
        content: {
          'image/*': { schema: { ...binaryFile, maxLength: limits.maxImageBytes } },
          'multipart/form-data': {
            schema: { type: 'object', additionalProperties: binaryFile, maxProperties: limits.maxItems, description: 'Every file is an image.' },
          },
        },
      },
    },
    responses: {
      200: embedded,
      400: failureResponse('Empty, corrupt or unreadable image'),
      404: notServed,
      413: failureResponse('Image or body too large, or too many images'),
      415: failureResponse('Not an image format the embedder decodes'),
      429: failureResponse('Queue full (see Retry-After)'),
    },
  });
  serveRoute(app, image, requestRules, async (c, { query }) => {
    const service = models.select(query.model);
    const type = c.req.header('content-type') ?? '';
    let images: Uint8Array[];
    if (type.startsWith('multipart/form-data')) {
      const form = await c.req.formData().catch(() => {
        throw new ApiError(400, 'invalid_multipart', 'multipart body could not be parsed');
      });
      const files = ([...form.values()] as unknown[]).filter((v): v is Blob => v instanceof Blob);
      if (files.length === 0) throw new ApiError(400, 'no_images', 'multipart body holds no files');
      if (files.length > limits.maxItems)
        throw new ApiError(413, 'too_many_items', `${files.length} images; the limit (EMBEDDER_MAX_ITEMS) is ${limits.maxItems}`);
      images = await Promise.all(files.map(async (f) => checkImageSize(new Uint8Array(await f.arrayBuffer()), limits)));
    } else {
      images = [checkImageSize(new Uint8Array(await c.req.arrayBuffer()), limits)];
    }
    return respond(c, service, await service.embedImages(images, c.req.raw.signal));
  });
}
