/**
 * `npm run test:asan [-- <vitest files...>]`: the decoder and addon test suites against the addon built
 * with AddressSanitizer and UndefinedBehaviorSanitizer (any report fatal), Node running with the ASan
 * runtime preloaded. By default: test/embedder/jpeg-decoder.test.ts and test/native/. The addon goes
 * to native/build/asan/ (the production build is untouched) and the tests load it through
 * CROSSMODAL_NATIVE_ADDON; clang is installed first if missing (toolchain.ts).
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clangToolchain } from './toolchain.ts';

const NATIVE = fileURLToPath(new URL('..', import.meta.url));
const REPO = join(NATIVE, '..');
const OUT = join(NATIVE, 'build', 'asan');
const SANITIZE = '-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g';
const DEFAULT_TESTS = ['test/embedder/jpeg-decoder.test.ts', 'test/native'];

const { cxx, asanRuntime } = clangToolchain();
const cmakeJs = createRequire(import.meta.url).resolve('cmake-js/bin/cmake-js');
console.log(`test:asan: building the addon with ASan and UBSan into ${OUT}`);
const built = spawnSync(
  process.execPath,
  [
    cmakeJs, 'build', '--directory', NATIVE, '--out', OUT, '--parallel', String(availableParallelism()), '--log-level', 'warn',
    `--CDCMAKE_CXX_COMPILER=${cxx}`,
    '--CDCMAKE_BUILD_TYPE=RelWithDebInfo',
    // cmake-js sets CMAKE_CXX_FLAGS itself; the build type's flags are ours.
    `--CDCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 ${SANITIZE}`,
    // The addon uses the runtime Node preloads, not a copy of its own.
    `--CDCMAKE_SHARED_LINKER_FLAGS=${SANITIZE} -shared-libasan`,
  ],
  { stdio: 'inherit' },
);
if (built.status !== 0) process.exit(built.status ?? 1);

const tests = process.argv.slice(2);
const env = {
  ...process.env,
  CROSSMODAL_NATIVE_ADDON: join(OUT, 'Release', 'crossmodal_native.node'),
  LD_PRELOAD: asanRuntime,
  // Node itself frees little at exit: leak reports would be about V8, not about the addon.
  ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1',
  UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
};
console.log(`test:asan: vitest with LD_PRELOAD=${asanRuntime}`);
const result = spawnSync('npx', ['vitest', 'run', ...(tests.length ? tests : DEFAULT_TESTS)], { cwd: REPO, env, stdio: 'inherit' });
process.exit(result.status ?? 1);
