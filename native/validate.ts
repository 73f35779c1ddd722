// Argument checks shared by the addon and the fallback, so both reject the
// same inputs with the same errors.

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return `${typeof value} ${String(value)}`;
}

export function assertFloat32Array(value: unknown, name: string): asserts value is Float32Array {
  if (!(value instanceof Float32Array)) throw new TypeError(`${name} must be a Float32Array (got ${describe(value)})`);
}

export function assertPositiveInteger(value: unknown, name: string, max = 2 ** 32 - 1): asserts value is number {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number (got ${describe(value)})`);
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw new RangeError(`${name} must be an integer from 1 to ${max} (got ${value})`);
}

/** Rows of a row-major matrix, after checking it is whole rows of `dim`. */
export function rowCount(matrix: Float32Array, dim: number, name: string): number {
  if (matrix.length % dim !== 0)
    throw new RangeError(`${name} has ${matrix.length} values, which is not a multiple of dim ${dim}`);
  return matrix.length / dim;
}

/** `threads` option: undefined means automatic (0 for the backends). */
export function threadCount(threads: unknown): number {
  if (threads === undefined) return 0;
  assertPositiveInteger(threads, 'threads', 1024);
  return threads;
}
