// A tower on the graph rewritten by pooled-rows.ts, used only when it opens
// and reproduces the exported graph's embeddings on a probe batch; otherwise
// the exported graph stays.
import { readFileSync } from 'node:fs';
import { openSessionFromBytes, type Provider, type RuntimeOptions } from './execution-provider.ts';
import { gatherPooledRowEarly, POOLED_ROW_KINDS, type PooledRowKind } from './pooled-rows.ts';
import { ClipTower } from './tower.ts';

/** Largest difference allowed between the two graphs' unit-norm embeddings (in practice they are equal). */
const TOLERANCE = 1e-5;

export interface PooledTowerResult {
  tower: ClipTower;
  /** What was done, for the log: the rewrite, or why the exported graph was kept. */
  note: string;
}

export async function towerWithPooledRowEarly(
  exported: ClipTower,
  modelPath: string,
  provider: Provider,
  options: RuntimeOptions,
  placeholders: ConstructorParameters<typeof ClipTower>[2],
  /** Embeds the same probe batch with the given tower. */
  probe: (tower: ClipTower) => Promise<Float32Array>,
  /** The poolings the tower's family may have (pooled-rows.ts); any other is left as exported. */
  accepted: readonly PooledRowKind[] = POOLED_ROW_KINDS,
): Promise<PooledTowerResult> {
  const kept = (why: string) => ({ tower: exported, note: `${exported.modality} graph kept as exported (${why})` });
  let rewrite: ReturnType<typeof gatherPooledRowEarly>;
  let candidate: ClipTower;
  try {
    rewrite = gatherPooledRowEarly(new Uint8Array(readFileSync(modelPath)), exported.outputName, accepted);
    if (!rewrite) return kept('no pooled row to gather early');
    candidate = new ClipTower(await openSessionFromBytes(rewrite.model, provider, options), exported.modality, placeholders, [exported.outputName]);
  } catch (error) {
    return kept(`the rewrite failed: ${(error as Error).message.split('\n')[0]}`);
  }
  const [want, got] = [await probe(exported), await probe(candidate)];
  let diff = got.length === want.length ? 0 : Infinity;
  for (let i = 0; i < want.length; i++) diff = Math.max(diff, Math.abs(want[i]! - got[i]!));
  if (!(diff <= TOLERANCE)) {
    await candidate.close();
    return kept(`the rewritten graph differed by ${diff}`);
  }
  await exported.close();
  const { nodes, matmuls } = rewrite.report;
  return {
    tower: candidate,
    note: `${exported.modality} graph: the pooled row is gathered before the last ${nodes} row-wise steps (${matmuls} MatMul), max difference ${diff}`,
  };
}

/** Pixels for the probe: a fixed pseudo-random batch in the range of normalised images. */
export function probePixels(batch: number, size: number): Float32Array {
  const pixels = new Float32Array(batch * 3 * size * size);
  let state = 12345;
  for (let i = 0; i < pixels.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    pixels[i] = (state / 2 ** 32) * 4 - 2;
  }
  return pixels;
}
