// Builds the SIMD addon during `npm install`. A failed build is not fatal:
// the TypeScript fallback takes over (and warns at load) unless
// CROSSMODAL_REQUIRE_NATIVE=1 asks for the build to be mandatory.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const nativeDir = fileURLToPath(new URL('..', import.meta.url));
const required = process.env.CROSSMODAL_REQUIRE_NATIVE === '1';

if (process.env.CROSSMODAL_NATIVE === 'off') {
  console.log('crossmodal: CROSSMODAL_NATIVE=off, skipping the native addon build');
  process.exit(0);
}

let cmakeJs;
try {
  cmakeJs = createRequire(import.meta.url).resolve('cmake-js/bin/cmake-js');
} catch {
  cmakeJs = null;
}

const result = cmakeJs
  ? spawnSync(
      process.execPath,
      [cmakeJs, 'compile', '--directory', nativeDir, '--out', `${nativeDir}/build`, '--parallel', String(availableParallelism()), '--log-level', 'warn'],
      { stdio: 'inherit' },
    )
  : { status: 1, error: new Error('cmake-js is not installed') };

if (result.status === 0) {
  console.log('crossmodal: native SIMD addon built');
} else {
  const why = result.error?.message ?? `cmake-js exited with ${result.status}`;
  console.warn(`crossmodal: native addon build failed (${why}); the TypeScript fallback will be used.`);
  console.warn('crossmodal: install cmake and a C++17 compiler, then run `npm run build:native`.');
  process.exit(required ? 1 : 0);
}
