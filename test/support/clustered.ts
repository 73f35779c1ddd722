// Clustered unit vectors shaped like real embeddings: a shared mean direction
// (unrelated items still have positive cosine), topics, clusters within
// topics, and per-item noise. Uniform noise would make every neighbour
// equally far and say little about an ANN index.
import { seededRandom } from './random.ts';

export interface ClusteredOptions {
  clusters?: number;
  topics?: number;
  /** Per-item noise relative to the cluster centre (0.6: items ~0.85 cosine to their centre). */
  noise?: number;
  seed?: number;
}

export interface ClusteredData {
  dim: number;
  /** Draws `n` more vectors from the same distribution (e.g. queries). */
  sample(n: number): { vectors: Float32Array; clusters: Uint32Array };
}

export function clusteredSpace(dim: number, options: ClusteredOptions = {}): ClusteredData {
  const random = seededRandom(options.seed ?? 1);
  // Box–Muller, both outputs used.
  let spare: number | null = null;
  const gauss = () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(random() || 1e-12));
    const t = 2 * Math.PI * random();
    spare = r * Math.sin(t);
    return r * Math.cos(t);
  };
  const clusters = options.clusters ?? 100;
  const topics = options.topics ?? Math.max(2, Math.round(Math.sqrt(clusters)));
  const noise = options.noise ?? 0.6;
  const scale = 1 / Math.sqrt(dim);
  const mean = Float64Array.from({ length: dim }, () => gauss() * scale);
  const topicDirs = Array.from({ length: topics }, () => Float64Array.from({ length: dim }, () => gauss() * scale));
  const centres = Array.from({ length: clusters }, () => {
    const topic = topicDirs[Math.floor(random() * topics)]!;
    return Float64Array.from({ length: dim }, (_, j) => 0.5 * mean[j]! + 0.8 * topic[j]! + 0.7 * gauss() * scale);
  });
  return {
    dim,
    sample(n) {
      const vectors = new Float32Array(n * dim);
      const ids = new Uint32Array(n);
      for (let r = 0; r < n; r++) {
        const c = Math.floor(random() * clusters);
        ids[r] = c;
        const centre = centres[c]!;
        let ss = 0;
        for (let j = 0; j < dim; j++) {
          const v = centre[j]! + noise * gauss() * scale;
          vectors[r * dim + j] = v;
          ss += v * v;
        }
        const inv = 1 / Math.sqrt(ss);
        for (let j = 0; j < dim; j++) vectors[r * dim + j]! *= inv;
      }
      return { vectors, clusters: ids };
    },
  };
}
