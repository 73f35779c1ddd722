/** Padding a batch of encoded rows into the row-major tensors a text model takes. */

export interface TokenizeOptions {
  /** Pad every row to the context length (default), or only to the longest row of the batch. */
  readonly padTo?: 'context' | 'longest';
  /** Id written after each row's last token; default: the tokenizer's `padId`. */
  readonly padId?: number;
}

export interface TokenizedBatch {
  /** `batchSize × length` ids, row-major. */
  readonly ids: Int32Array;
  /** 1 for real tokens, 0 for padding; same layout as `ids`. */
  readonly attentionMask: Int32Array;
  /** Ids per row after padding. */
  readonly length: number;
  /** Unpadded ids per row, special tokens included. */
  readonly lengths: number[];
  readonly batchSize: number;
}

/**
 * Encodes each text with `encode` and right-pads the rows. `caller` names the tokenizer in the
 * errors a wrong argument gets.
 */
export function encodeBatch(
  caller: string,
  texts: readonly string[],
  encode: (text: string) => number[],
  contextLength: number,
  defaultPadId: number,
  options: TokenizeOptions = {},
): TokenizedBatch {
  if (!Array.isArray(texts)) {
    throw new TypeError(`${caller}.tokenize expects an array of strings, got ${describeValue(texts)}`);
  }
  const padTo = options.padTo ?? 'context';
  if (padTo !== 'context' && padTo !== 'longest') {
    throw new TypeError(`padTo must be 'context' or 'longest', got ${describeValue(padTo)}`);
  }
  const padId = options.padId === undefined ? defaultPadId : validatePadId(options.padId);
  const rows = texts.map((text, index) => {
    if (typeof text !== 'string') {
      throw new TypeError(`${caller}.tokenize: texts[${index}] is ${describeValue(text)}, expected a string`);
    }
    return encode(text);
  });
  const lengths = rows.map((row) => row.length);
  const length = padTo === 'context' ? contextLength : Math.max(0, ...lengths);

  const ids = new Int32Array(rows.length * length).fill(padId);
  const attentionMask = new Int32Array(rows.length * length);
  rows.forEach((row, index) => {
    ids.set(row, index * length);
    attentionMask.fill(1, index * length, index * length + row.length);
  });
  return { ids, attentionMask, length, lengths, batchSize: rows.length };
}

export function validatePadId(padId: unknown): number {
  if (typeof padId !== 'number' || !Number.isInteger(padId) || padId < 0 || padId >= 2 ** 31) {
    throw new RangeError(`padId must be a non-negative 32-bit integer, got ${describeValue(padId)}`);
  }
  return padId;
}

export function validateContextLength(contextLength: unknown, minimum: number): number {
  if (typeof contextLength !== 'number' || !Number.isInteger(contextLength) || contextLength < minimum) {
    throw new RangeError(`contextLength must be an integer >= ${minimum}, got ${describeValue(contextLength)}`);
  }
  return contextLength;
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
