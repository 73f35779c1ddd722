import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ADDON_PATH } from '../../native/addon.ts';
import { implementations, nativeLoaded, simdLevel } from '../../native/index.ts';

const inCI = process.env.CI === 'true';

/** simdLevel() as seen by a fresh process that loads the addon with `env`. */
function runNode(args: string[], env: Record<string, string>): { stdout: string; stderr: string } {
  const child = spawnSync(process.execPath, args, { env: { ...process.env, ...env }, encoding: 'utf8' });
  expect(child.status, child.stderr).toBe(0);
  return { stdout: child.stdout, stderr: child.stderr };
}

function levelInChild(env: Record<string, string>): { level: string; stderr: string } {
  const { stdout, stderr } = runNode(['-e', `process.stdout.write(require(${JSON.stringify(ADDON_PATH)}).simdLevel())`], env);
  return { level: stdout, stderr };
}

describe('native addon loading', () => {
  it.runIf(inCI)('is built and loaded in CI (so the fast path is what gets tested)', () => {
    expect(nativeLoaded).toBe(true);
  });

  it('uses the best level the CPU supports by default', () => {
    const native = implementations.native;
    if (!native) return expect(simdLevel()).toBe('typescript');
    expect(levelInChild({}).level).toBe(native.supportedSimdLevels().at(-1));
  });

  it.skipIf(!nativeLoaded)('CROSSMODAL_SIMD caps the dispatch at load, for every supported level', () => {
    for (const level of implementations.native!.supportedSimdLevels())
      expect(levelInChild({ CROSSMODAL_SIMD: level }).level).toBe(level);
  });

  it.skipIf(!nativeLoaded)('an unsupported CROSSMODAL_SIMD warns and keeps the best level', () => {
    const best = implementations.native!.supportedSimdLevels().at(-1);
    const { level, stderr } = levelInChild({ CROSSMODAL_SIMD: 'quantum' });
    expect(level).toBe(best);
    expect(stderr).toContain(`CROSSMODAL_SIMD=quantum is not supported on this CPU; using ${best}`);
  });

  it('falls back to TypeScript with one warning when the addon cannot load, and still scores', () => {
    const script = [
      "const s = await import('./native/index.ts');",
      's.topK(new Float32Array([1, 0]), new Float32Array([0, 1, 1, 0]), 2, 1);',
      's.topK(new Float32Array([1, 0]), new Float32Array([0, 1, 1, 0]), 2, 1);',
      "console.log(JSON.stringify({ level: s.simdLevel(), best: Array.from(s.topK(new Float32Array([1, 0]), new Float32Array([0, 1, 1, 0]), 2, 1).indices) }));",
    ].join('\n');
    const { stdout, stderr } = runNode(['--import', 'tsx', '--input-type=module', '-e', script], {
      CROSSMODAL_NATIVE_ADDON: '/nonexistent/crossmodal_native.node',
      CROSSMODAL_NATIVE: '', // tries to load it even in a run with the addon turned off
    });
    expect(JSON.parse(stdout)).toEqual({ level: 'typescript', best: [1] });
    expect(stderr.match(/CROSSMODAL_NATIVE_FALLBACK/g)).toHaveLength(1);
  });

  it.skipIf(!nativeLoaded)('setSimdLevel refuses a level the CPU lacks', () => {
    const native = implementations.native!;
    const before = native.simdLevel();
    expect(native.setSimdLevel('quantum')).toBe(false);
    expect(native.simdLevel()).toBe(before);
  });
});
