// Reading a JSON body and checking it against a zod schema, with every
// failure answered in the service's own words (its JsonBodyRules).
import type { Context } from 'hono';
import type { z } from 'zod';

/** JSON nested deeper than this is refused: no body of these APIs comes near it, and deep values only cost recursion later. */
export const MAX_JSON_DEPTH = 32;

/** Why the kit refused a body before any schema saw it: not UTF-8, or nested too deeply. Passed to `malformed`. */
export class UnreadableJsonError extends Error {
  override readonly name = 'UnreadableJsonError';
}

// Fatal: bytes that are not UTF-8 are refused, never replaced with U+FFFD.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export interface JsonBodyRules {
  /** Only these Content-Types are read as JSON; any other is refused with `refuse()`. Omit to read every body as JSON. */
  mediaType?: { accepts: RegExp; refuse: () => Error };
  /** The body is not JSON: a SyntaxError from JSON.parse, or an UnreadableJsonError (not UTF-8, nested too deeply) whose message says why. */
  malformed: (cause: Error) => Error;
  /** The JSON does not fit the schema. */
  invalid: (error: z.ZodError) => Error;
}

export async function readJsonBody<T extends z.ZodType>(c: Context, schema: T, rules: JsonBodyRules): Promise<z.output<T>> {
  if (rules.mediaType && !rules.mediaType.accepts.test(c.req.header('content-type') ?? '')) throw rules.mediaType.refuse();
  const body = parseJson(await c.req.arrayBuffer(), rules);
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw rules.invalid(parsed.error);
  return parsed.data;
}

/** The body's bytes as JSON: strict UTF-8, at most MAX_JSON_DEPTH levels deep. */
function parseJson(bytes: ArrayBuffer, rules: JsonBodyRules): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw rules.malformed(new UnreadableJsonError('the body is not valid UTF-8'));
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw rules.malformed(error as Error);
  }
  if (nestedDeeperThan(body, MAX_JSON_DEPTH)) throw rules.malformed(new UnreadableJsonError(`the JSON is nested more than ${MAX_JSON_DEPTH} levels deep`));
  return body;
}

/** Whether `value` nests arrays or objects more than `max` levels deep; iterative, so any depth is measured without recursion. */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [next, depth] = pending.pop()!;
    if (typeof next !== 'object' || next === null) continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(next) ? next : Object.values(next)) if (typeof child === 'object' && child !== null) pending.push([child, depth + 1]);
  }
  return false;
}

export interface IssueFormat {
  /** At most this many issues (default 3). */
  limit?: number;
  /** The name of the whole value, for an issue about it rather than a field (default: no name). */
  whole?: string;
}

/** Zod issues as one readable line: `k: Too big: expected number to be <=100; filter: …`. */
export function describeIssues(error: z.ZodError, { limit = 3, whole }: IssueFormat = {}): string {
  return error.issues
    .slice(0, limit)
    .map((issue) => {
      // A record key's own problem is more useful than zod's "Invalid key in record".
      const inner = issue.code === 'invalid_key' ? issue.issues[0] : undefined;
      const path = issue.path.length > 0 ? issue.path.map(String).join('.') : whole;
      const message = inner ? inner.message : issue.message;
      return path ? `${path}: ${message}` : message;
    })
    .join('; ');
}
