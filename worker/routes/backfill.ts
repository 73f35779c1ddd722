// POST /v1/backfill (admin): item descriptors (id, image URL, metadata) into
// the backfill queue, which this worker consumes (queue/consumer.ts). The
// answer comes once Queues holds every descriptor; the embedding happens
// later, in the consumer.
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { z } from 'zod';
import { failureResponse, jsonPost, jsonResponse, serveRoute } from '../../common/http/routes.ts';
import type { Config } from '../config.ts';
import type { AppEnv } from '../context.ts';
import { parseImageUrl } from '../embedding/image-input.ts';
import { ApiError } from '../errors.ts';
import { adminAuth } from '../middleware/admin-auth.ts';
import { QueueSendError, sendAll } from '../queue/send.ts';
import { limitBody, requestRules } from '../request.ts';
import { backfillSchemas, queuedSchema } from '../schemas.ts';

export function backfillRoutes(app: OpenAPIHono<AppEnv>, config: Config): void {
  const schemas = backfillSchemas(config);
  const enqueue = jsonPost('/v1/backfill', schemas.enqueue, {
    summary: 'Queue images for embedding and upsert (admin): descriptors with an image URL, never image bytes',
    security: [{ admin: [] }],
    middleware: [adminAuth, limitBody(() => config.MAX_ADMIN_BODY_BYTES)],
    responses: {
      202: jsonResponse('Every descriptor is in the queue', queuedSchema),
      400: failureResponse('Invalid descriptor'),
      401: failureResponse('No bearer token'),
      403: failureResponse('Wrong token, or the admin API is disabled'),
      413: failureResponse('Body too large'),
      500: failureResponse('No BACKFILL_QUEUE binding'),
      503: failureResponse('The queue refused the messages (see Retry-After); sending the same body again is safe'),
    },
  });
  serveRoute(app, enqueue, requestRules, async (c, { json: { items } }) => {
    // The consumer would dead-letter these; refusing them here tells the sender at once.
    items.forEach((item, i) => {
      try {
        parseImageUrl(item.url, { allowPrivate: config.ALLOW_PRIVATE_IMAGE_URLS });
      } catch (error) {
        if (error instanceof ApiError) throw new ApiError(400, 'invalid_parameter', `items.${i}.url: ${error.message}`);
        throw error;
      }
    });
    const queue = c.env.BACKFILL_QUEUE;
    if (!queue) throw new ApiError(500, 'misconfigured', 'this worker has no BACKFILL_QUEUE binding (wrangler.toml [[queues.producers]])');
    try {
      await sendAll(queue, items);
    } catch (error) {
      if (!(error instanceof QueueSendError)) throw error;
      console.error(error.message);
      throw new ApiError(503, 'queue_unavailable', `the backfill queue took ${error.sent} of ${items.length} descriptors, then failed; send them again`, {
        'retry-after': '5',
      });
    }
    return c.json({ queued: items.length } satisfies z.input<typeof queuedSchema>, 202);
  });
}
