// The HNSW graph under the write pattern of a live index (the chaos suite's,
// where a restarted index failed to replay its log): a first batch, then
// single upserts and, every third write, a pair whose older vector is
// removed first. Every add must succeed: a failed add leaves a durable
// mutation half applied and a log whose replay fails.
import { describe, expect, it } from 'vitest';
import { HnswGraph } from '../../index/engine/hnsw.ts';
import { seededRandom } from '../support/random.ts';

describe('HnswGraph', () => {
  it('accepts batches of any size after the graph grew on a smaller one', () => {
    const random = seededRandom(3);
    const dim = 32;
    let failures = 0;
    for (let graphs = 0; graphs < 300; graphs++) {
      const graph = new HnswGraph(dim, 'cosine');
      let next = 0;
      const add = (n: number) => graph.add(Array.from({ length: n }, () => next++), Float32Array.from({ length: n * dim }, () => random() - 0.5));
      try {
        add(20);
        for (let step = 0; step < 60; step++) {
          if (step % 3 === 2) {
            graph.remove([next - 2]);
            add(2);
          } else {
            add(1);
          }
        }
      } catch {
        failures++;
      }
    }
    // Before the fix about 7% of these graphs failed ("Reserve capacity ahead of insertions!").
    expect(failures).toBe(0);
  });
});
