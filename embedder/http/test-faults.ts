// A fault the chaos suite (test/chaos/) injects into a running embedder: a
// delay before every request on /v1/ except this route, set with
// PUT /v1/test/faults {"delayMs": n} (0 clears it). It exists only when the
// process runs with NODE_ENV=test AND EMBEDDER_TEST_FAULTS=1; with
// EMBEDDER_TEST_FAULTS set in any other environment the embedder refuses to
// start, so a production start cannot enable it by accident. The route sits
// under /v1/, behind the token and the body limit like every other.
import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { readJsonBody } from '../../common/http/json-body.ts';
import { requestRules } from './validation.ts';

export const TEST_FAULTS_PATH = '/v1/test/faults';

const faultsBody = z.object({ delayMs: z.number().int().min(0).max(60_000) }).strict();

/** Whether this process may serve test faults: only NODE_ENV=test with EMBEDDER_TEST_FAULTS=1; throws for the flag anywhere else. */
export function testFaultsEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const flag = env.EMBEDDER_TEST_FAULTS;
  if (flag === undefined || flag === '') return false;
  if (flag !== '1' || env.NODE_ENV !== 'test')
    throw new Error('EMBEDDER_TEST_FAULTS is a test-only setting: it takes effect only with NODE_ENV=test and the value 1; unset it');
  return true;
}

/** The delay middleware and its control route (call only when testFaultsEnabled()). */
export function testFaultRoutes(app: OpenAPIHono): void {
  let delayMs = 0;
  app.use('/v1/*', async (c, next) => {
    if (delayMs > 0 && c.req.path !== TEST_FAULTS_PATH) await new Promise((resolve) => setTimeout(resolve, delayMs));
    await next();
  });
  app.put(TEST_FAULTS_PATH, async (c) => {
    ({ delayMs } = await readJsonBody(c, faultsBody, requestRules));
    return c.json({ delayMs });
  });
}
