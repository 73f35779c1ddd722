/** JSON text in the styles the published files use. */

type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

/** Python's `json.dumps(value)` style: one line, `", "` and `": "` separators. */
export function pythonJson(value: Json): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  const entries = Object.entries(value as { readonly [key: string]: Json });
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${pythonJson(v)}`).join(', ')}}`;
}

/** `JSON.stringify(value, null, n)`, as `json.dumps(value, indent=n, ensure_ascii=False)` except for number spelling (1e-05 is written 0.00001). */
export function indentedJson(value: Json, indent: number): string {
  return JSON.stringify(value, null, indent);
}

export type { Json };
