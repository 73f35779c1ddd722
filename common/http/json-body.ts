// Reading a JSON body and checking it against a zod schema, with every
// failure answered in the service's own words (its JsonBodyRules).
import type { Context } from 'hono';
import type { z } from 'zod';

export interface JsonBodyRules {
  /** Only these Content-Types are read as JSON; any other is refused with `refuse()`. Omit to read every body as JSON. */
  mediaType?: { accepts: RegExp; refuse: () => Error };
  /** The body is not JSON. */
  malformed: (cause: Error) => Error;
  /** The JSON does not fit the schema. */
  invalid: (error: z.ZodError) => Error;
}

export async function readJsonBody<T extends z.ZodType>(c: Context, schema: T, rules: JsonBodyRules): Promise<z.output<T>> {
  if (rules.mediaType && !rules.mediaType.accepts.test(c.req.header('content-type') ?? '')) throw rules.mediaType.refuse();
  const text = await c.req.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw rules.malformed(error as Error);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw rules.invalid(parsed.error);
  return parsed.data;
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
