// An error response from the embedder or the worker (both answer
// { "error": { "code", "message" } }) as one of the failures in failures.ts.
import { z } from 'zod';
import { statusFailure } from './failures.ts';

const errorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `what` names the request in the message; the body's code and message are kept. */
export async function responseFailure(what: string, response: Response): Promise<{ failure: Error; code: string }> {
  const text = await response.text().catch(() => '');
  const parsed = errorSchema.safeParse(parseJson(text));
  const code = parsed.success ? parsed.data.error.code : '';
  const message = parsed.success ? parsed.data.error.message : text.slice(0, 200);
  return { failure: statusFailure(what, response.status, code, message, response.headers.get('retry-after')), code };
}
