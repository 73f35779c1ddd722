// Text × image similarity and zero-shot classification with the model's own
// temperature (logit scale).
import { Hono } from 'hono';
import { z } from 'zod';
import { dotScores } from '../../../native/index.ts';
import { resolveImageReference } from '../../service/image-input.ts';
import type { EmbedderDeps } from '../context.ts';
import { ApiError } from '../errors.ts';
import { limitedList, limitedText, readJson, stack } from '../validation.ts';

function softmax(logits: number[]): number[] {
  const max = Math.max(...logits);
  const exp = logits.map((l) => Math.exp(l - max));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp.map((e) => e / sum);
}

export function scoringRoutes({ service, limits }: EmbedderDeps) {
  const text = limitedText(limits);
  const similarity = z.object({
    texts: limitedList(text, limits),
    images: limitedList(z.string().min(1), limits),
  });
  const classify = z.object({
    image: z.string().min(1),
    labels: limitedList(text.min(1), limits).min(2),
    template: text.default('a photo of a {}.'),
  });

  return new Hono()
    .post('/similarity', async (c) => {
      const body = await readJson(c, similarity);
      const images = await Promise.all(body.images.map((i) => resolveImageReference(i, limits)));
      const [t, v] = await Promise.all([service.embedTexts(body.texts, c.req.raw.signal), service.embedImages(images, c.req.raw.signal)]);
      const dim = service.clip.dim;
      const scores = dotScores(stack(t, dim), stack(v, dim), dim);
      return c.json({
        model: service.clip.name,
        scores: body.texts.map((_, i) => Array.from(scores.subarray(i * v.length, (i + 1) * v.length))),
      });
    })
    .post('/classify', async (c) => {
      const body = await readJson(c, classify);
      if (!body.template.includes('{}')) throw new ApiError(400, 'invalid_request', 'template must contain {} where the label goes');
      const image = await resolveImageReference(body.image, limits);
      const prompts = body.labels.map((l) => body.template.replace('{}', l));
      const [[v], t] = await Promise.all([service.embedImages([image], c.req.raw.signal), service.embedTexts(prompts, c.req.raw.signal)]);
      const dim = service.clip.dim;
      const cos = Array.from(dotScores(v!, stack(t, dim), dim));
      const probs = softmax(cos.map((s) => s * service.clip.logitScale));
      const labels = body.labels.map((label, i) => ({ label, probability: probs[i]!, score: cos[i]! }));
      return c.json({ model: service.clip.name, labels: labels.sort((a, b) => b.probability - a.probability) });
    });
}
