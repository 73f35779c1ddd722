import { describe, expect, it } from 'vitest';
import { implementations, type Scoring } from '../../native/index.ts';

const backends = [
  { name: 'fallback', scoring: implementations.fallback },
  ...(implementations.native ? [{ name: 'native', scoring: implementations.native }] : []),
];

const m = new Float32Array(12); // 3 rows of dim 4
const q = new Float32Array(4);

type Call = (s: Scoring) => unknown;
const cases: [string, Call, ErrorConstructor, RegExp][] = [
  ['matrix is a plain array', (s) => s.dotScores(q, [1, 2, 3, 4] as never, 4), TypeError, /matrix must be a Float32Array \(got Array\)/],
  ['queries is a Float64Array', (s) => s.topK(new Float64Array(4) as never, m, 4, 1), TypeError, /queries must be a Float32Array \(got Float64Array\)/],
  ['matrix is null', (s) => s.l2Normalize(null as never, 4), TypeError, /matrix must be a Float32Array \(got null\)/],
  ['dim is 0', (s) => s.dotScores(q, m, 0), RangeError, /dim must be an integer from 1/],
  ['dim is negative', (s) => s.l2Normalize(m, -4), RangeError, /dim must be an integer from 1/],
  ['dim is fractional', (s) => s.cosineScores(q, m, 2.5), RangeError, /dim must be an integer/],
  ['dim is a string', (s) => s.topK(q, m, '4' as never, 1), TypeError, /dim must be a number/],
  ['matrix length is not whole rows', (s) => s.dotScores(q, new Float32Array(10), 4), RangeError, /matrix has 10 values, which is not a multiple of dim 4/],
  ['queries length is not whole rows', (s) => s.topK(new Float32Array(5), m, 4, 1), RangeError, /queries has 5 values/],
  ['k is 0', (s) => s.topK(q, m, 4, 0), RangeError, /k must be an integer from 1/],
  ['k is NaN', (s) => s.topK(q, m, 4, Number.NaN), RangeError, /k must be an integer/],
  ['k is missing', (s) => (s.topK as (...a: unknown[]) => unknown)(q, m, 4), TypeError, /k must be a number/],
  ['metric is unknown', (s) => s.topK(q, m, 4, 1, { metric: 'l2' as never }), TypeError, /metric must be 'dot' or 'cosine'/],
  ['threads is 0', (s) => s.topK(q, m, 4, 1, { threads: 0 }), RangeError, /threads must be an integer from 1 to 1024/],
  ['threads is huge', (s) => s.dotScores(q, m, 4, { threads: 1e6 }), RangeError, /threads must be an integer from 1 to 1024/],
];

describe.each(backends)('argument errors: $name', ({ scoring }) => {
  it.each(cases)('%s', (_, call, type, message) => {
    expect(() => call(scoring)).toThrow(type);
    expect(() => call(scoring)).toThrow(message);
  });

  it('async twins reject with the same errors instead of throwing', async () => {
    await expect(scoring.topKAsync(q, m, 4, 0)).rejects.toThrow(RangeError);
    await expect(scoring.dotScoresAsync(q, new Float32Array(10), 4)).rejects.toThrow(/not a multiple of dim/);
    await expect(scoring.l2NormalizeAsync('x' as never, 4)).rejects.toThrow(TypeError);
  });

  it('leaves the inputs untouched when it rejects them', () => {
    const matrix = new Float32Array([3, 4, 0, 0, 1]);
    expect(() => scoring.l2Normalize(matrix, 2)).toThrow(RangeError);
    expect(Array.from(matrix)).toEqual([3, 4, 0, 0, 1]);
  });
});
