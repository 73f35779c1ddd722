// `npm run native:status`: which scoring implementation and SIMD level this
// machine runs, checked against the TypeScript fallback on random data.
import { performance } from 'node:perf_hooks';
import { implementations, nativeLoaded, simdLevel, supportedSimdLevels, topK } from './index.ts';

const dim = 512;
const rows = 100_000;
const matrix = new Float32Array(rows * dim).map(() => Math.random() * 2 - 1);
const query = matrix.slice(12_345 * dim, 12_346 * dim);

const start = performance.now();
const { indices, scores } = topK(query, matrix, dim, 5, { metric: 'cosine' });
const ms = performance.now() - start;
const reference = implementations.fallback.topK(query, matrix, dim, 5, { metric: 'cosine' });

console.log(`native addon: ${nativeLoaded ? 'loaded' : 'not loaded (TypeScript fallback)'}`);
console.log(`SIMD level: ${simdLevel()} (supported: ${supportedSimdLevels().join(', ')})`);
console.log(`cosine top-5 over ${rows} x ${dim}: rows ${Array.from(indices).join(', ')} in ${ms.toFixed(1)} ms`);
console.log(`best score ${scores[0]?.toFixed(6)}; agrees with the TypeScript reference: ${indices.join() === reference.indices.join()}`);
