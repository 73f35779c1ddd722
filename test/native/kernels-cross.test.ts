import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { temporaryDirectory } from '../support/files.ts';

// Every kernel table against the scalar reference in plain C++ (no Node):
// natively for this machine's ISAs, and for NEON under qemu-aarch64 when a
// cross compiler is installed (.ci/run installs one), so the arm64 path is
// verified from x86 machines too.
const nativeDir = new URL('../../native/', import.meta.url).pathname;
const sources = ['test/kernels_check.cc', 'src/cpu_features.cc', 'src/dispatch.cc', 'src/kernels/scalar.cc'];
const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const out = temporaryDirectory('kernels-');

function compileAndRun(compiler: string, flags: string[], extra: string[], runner: string[]): string {
  const binary = join(out, compiler.replace(/\W/g, '_'));
  execFileSync(compiler, ['-std=c++17', '-O2', ...flags, ...sources, ...extra, '-o', binary], { cwd: nativeDir });
  const [cmd, ...args] = [...runner, binary];
  return execFileSync(cmd!, args, { encoding: 'utf8' });
}

describe('C++ kernels against their scalar references', () => {
  it.runIf(process.arch === 'x64')('x86-64: sse, avx2 and avx512 where the CPU has them', () => {
    const extra = ['src/kernels/sse.cc', 'src/kernels/avx2.cc', 'src/kernels/avx512.cc'];
    // Per-file ISA flags, as in CMakeLists.txt: compile the ISA files separately.
    const objects = extra.map((file, i) => {
      const obj = join(out, `isa${i}.o`);
      const flags = file.includes('avx512') ? ['-mavx512f', '-mfma'] : file.includes('avx2') ? ['-mavx2', '-mfma'] : [];
      execFileSync('g++', ['-std=c++17', '-O2', '-DCROSSMODAL_X86=1', ...flags, '-c', file, '-o', obj], { cwd: nativeDir });
      return obj;
    });
    const report = compileAndRun('g++', ['-DCROSSMODAL_X86=1'], objects, []);
    expect(report).toMatch(/^scalar ok$/m);
    expect(report).toMatch(/^sse ok$/m);
    expect(report).not.toMatch(/failed/);
  });

  it('JPEG inverse DCT: the AVX2 kernel (on x86-64) and the flat-block shortcut against the scalar reference', () => {
    const x86 = process.arch === 'x64';
    const flags = x86 ? ['-DCROSSMODAL_X86=1'] : [];
    const objects: string[] = [];
    if (x86) {
      objects.push(join(out, 'idct_avx2.o'));
      execFileSync('g++', ['-std=c++17', '-O2', ...flags, '-mavx2', '-c', 'src/image/jpeg/idct_avx2.cc', '-o', objects[0]!], { cwd: nativeDir });
    }
    const binary = join(out, 'idct_check');
    execFileSync('g++', ['-std=c++17', '-O2', ...flags, 'test/idct_check.cc', 'src/image/jpeg/idct_scalar.cc', ...objects, '-o', binary], { cwd: nativeDir });
    expect(execFileSync(binary, { encoding: 'utf8' })).toMatch(/^idct 20000 blocks ok$/m);
  });

  const cross = has('aarch64-linux-gnu-g++') && has('qemu-aarch64');
  it.skipIf(!cross)('arm64: neon under qemu-aarch64 (needs g++-aarch64-linux-gnu and qemu-user)', () => {
    const report = compileAndRun('aarch64-linux-gnu-g++', ['-DCROSSMODAL_ARM64=1', '-static'], ['src/kernels/neon.cc'], ['qemu-aarch64']);
    expect(report).toMatch(/^neon ok$/m);
    expect(report).not.toMatch(/failed/);
  });
});
