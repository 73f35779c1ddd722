// The benchmark-only addon (binding.cc): built on demand, so that the production addon carries no
// benchmark code. Only test/bench/native.bench.ts loads it.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface BenchAddon {
  /** XOR of the array's 64-bit words, read sequentially by `threads` threads: the memory-read yardstick. */
  sequentialRead(data: Float32Array, threads: number): number;
}

/** Builds crossmodal_bench.node if it is missing or stale (an up-to-date build takes a moment), then loads it. */
export function loadBenchAddon(): BenchAddon {
  const build = spawnSync(process.execPath, [fileURLToPath(new URL('../scripts/build.mjs', import.meta.url)), '--target', 'crossmodal_bench'], {
    stdio: 'inherit',
  });
  if (build.status !== 0) throw new Error('the benchmark addon (native/bench) did not build; see the output above');
  return createRequire(import.meta.url)(fileURLToPath(new URL('../build/Release/crossmodal_bench.node', import.meta.url))) as BenchAddon;
}
