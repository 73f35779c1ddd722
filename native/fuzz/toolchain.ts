/**
 * clang++ able to build libFuzzer targets with AddressSanitizer and UndefinedBehaviorSanitizer, and the
 * ASan runtime that Node must preload to load an addon built with them. Missing, they are installed
 * with apt-get (Debian's `clang` and `libclang-rt-dev`), as .ci/run installs the tools it needs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Toolchain {
  /** The C++ compiler (clang++). */
  readonly cxx: string;
  /** The shared ASan runtime (libclang_rt.asan*.so), for LD_PRELOAD. */
  readonly asanRuntime: string;
}

const PACKAGES = ['clang', 'libclang-rt-dev'];

/** The toolchain, installed first if this machine lacks it. */
export function clangToolchain(): Toolchain {
  const found = probe();
  if (found) return found;
  install();
  const installed = probe();
  if (!installed) throw new Error(`clang++ still cannot build a libFuzzer target after installing ${PACKAGES.join(' ')}`);
  return installed;
}

/** clang++ if it links a fuzz target with both sanitizers (the proof that every runtime is there). */
function probe(): Toolchain | null {
  const cxx = 'clang++';
  const dir = mkdtempSync(join(tmpdir(), 'fuzz-probe-'));
  try {
    const source = join(dir, 'probe.cc');
    writeFileSync(source, 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n');
    const built = spawnSync(cxx, ['-fsanitize=fuzzer,address,undefined', source, '-o', join(dir, 'probe')], { stdio: 'ignore' });
    if (built.error || built.status !== 0) return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const asanRuntime = asanRuntimePath(cxx);
  return asanRuntime ? { cxx, asanRuntime } : null;
}

function asanRuntimePath(cxx: string): string | null {
  const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
  // Older clang names the runtime by architecture; newer clang keeps it in a per-target directory.
  for (const name of [`libclang_rt.asan-${arch}.so`, 'libclang_rt.asan.so']) {
    const path = spawnSync(cxx, [`-print-file-name=${name}`], { encoding: 'utf8' }).stdout?.trim();
    if (path && path.startsWith('/') && existsSync(path)) return path;
  }
  return null;
}

function install(): void {
  const canInstall = process.getuid?.() === 0 && spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!canInstall) {
    throw new Error(`clang++ with libFuzzer and the sanitizer runtimes is missing: install ${PACKAGES.join(' ')} (Debian, Ubuntu) and retry`);
  }
  console.log(`fuzz: installing ${PACKAGES.join(' ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args: string[]) => spawnSync('apt-get', args, { stdio: 'inherit', env }).status === 0;
  if (!apt(['update', '-qq'])) throw new Error('apt-get update failed');
  // Older releases ship the runtimes inside clang's own packages and have no libclang-rt-dev.
  if (!apt(['install', '-y', '-qq', ...PACKAGES]) && !apt(['install', '-y', '-qq', 'clang'])) {
    throw new Error(`apt-get install ${PACKAGES.join(' ')} failed`);
  }
}
