// A Node service's settings from its environment, checked against its zod schema.
import type { z } from 'zod';

export interface ReadSettingsOptions {
  /** Whose settings, for the message ("invalid index settings: ..."). */
  service?: string;
  /** Treat VAR= as unset (default). Off where an empty value must be refused, e.g. a token. */
  emptyIsUnset?: boolean;
}

/** The parsed settings, or an Error naming every bad variable and why. */
export function readSettings<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv, options: ReadSettingsOptions = {}): z.output<S> {
  const given = options.emptyIsUnset === false ? env : Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = schema.safeParse(given);
  if (parsed.success) return parsed.data;
  const what = options.service ? `${options.service} settings` : 'settings';
  throw new Error(`invalid ${what}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
}
