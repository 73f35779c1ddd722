// Native embedding routes: JSON or raw float32 out, for the worker and backfill.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { checkImageSize } from '../../service/image-input.ts';
import type { EmbedderDeps } from '../context.ts';
import { ApiError } from '../errors.ts';
import { binaryRows, limitedList, limitedText, readJson, wantsBinary } from '../validation.ts';

export function embedRoutes({ service, limits }: EmbedderDeps) {
  const textSchema = z
    .object({ texts: limitedList(limitedText(limits), limits).optional(), text: limitedText(limits).optional() })
    .refine((b) => (b.texts === undefined) !== (b.text === undefined), 'give exactly one of "texts" (an array) or "text"');

  const respond = (c: Context, rows: Float32Array[]) =>
    wantsBinary(c)
      ? binaryRows(rows, service.clip.dim)
      : c.json({ model: service.clip.name, dim: service.clip.dim, embeddings: rows.map((r) => Array.from(r)) });

  return new Hono()
    .post('/text', async (c) => {
      const body = await readJson(c, textSchema);
      const texts = body.texts ?? [body.text!];
      return respond(c, await service.embedTexts(texts, c.req.raw.signal));
    })
    .post('/image', async (c) => {
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
      return respond(c, await service.embedImages(images, c.req.raw.signal));
    });
}
