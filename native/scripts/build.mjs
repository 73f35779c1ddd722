// Builds the SIMD addon during `npm install`. A failed build is not fatal:
// the TypeScript fallback takes over (and warns at load) unless
// CROSSMODAL_REQUIRE_NATIVE=1 asks for the build to be mandatory.
//
// `--target crossmodal_bench` builds the benchmark-only addon instead
// (bench:native asks for it); that build fails loudly, there being no fallback.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const nativeDir = fileURLToPath(new URL('..', import.meta.url));
const { target } = parseArgs({ options: { target: { type: 'string' } } }).values;
const required = target !== undefined || process.env.CROSSMODAL_REQUIRE_NATIVE === '1';

if (!target && process.env.CROSSMODAL_NATIVE === 'off') {
  console.log('crossmodal: CROSSMODAL_NATIVE=off, skipping the native addon build');
  process.exit(0);
}

let cmakeJs;
try {
  cmakeJs = createRequire(import.meta.url).resolve('cmake-js/bin/cmake-js');
} catch {
  cmakeJs = null;
}

// `compile` retries a failed build from scratch; a single target is only built, so that a failure
// there cannot clean away the addon beside it.
const command = target ? ['build', '--target', target] : ['compile'];
const result = cmakeJs
  ? spawnSync(
      process.execPath,
      [cmakeJs, ...command, '--directory', nativeDir, '--out', `${nativeDir}/build`, '--parallel', String(availableParallelism()), '--log-level', 'warn'],
      { stdio: 'inherit' },
    )
  : { status: 1, error: new Error('cmake-js is not installed') };

const built = target ?? 'native SIMD addon';
if (result.status === 0) {
  console.log(`crossmodal: ${built} built`);
} else {
  const why = result.error?.message ?? `cmake-js exited with ${result.status}`;
  if (target) {
    console.error(`crossmodal: ${target} build failed (${why}).`);
  } else {
    console.warn(`crossmodal: native addon build failed (${why}); the TypeScript fallback will be used.`);
    console.warn('crossmodal: install cmake and a C++17 compiler, then run `npm run build:native`.');
  }
  process.exit(required ? 1 : 0);
}
