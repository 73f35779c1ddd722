// Shared benchmark plumbing: timing, a printed table, and a JSON record.
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';

/** Best (minimum) wall time in seconds over `repeats` runs: the least disturbed by a shared, noisy machine. */
export async function bestSeconds(repeats: number, run: () => unknown): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await run();
    best = Math.min(best, (performance.now() - start) / 1000);
  }
  return best;
}

export interface Target {
  name: string;
  value: number;
  required: number;
  pass: boolean;
}

export const target = (name: string, value: number, required: number): Target => ({
  name,
  value,
  required,
  pass: value >= required,
});

export function machine() {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

export function printTable(rows: Record<string, string | number>[]): void {
  const columns = Object.keys(rows[0] ?? {});
  const text = (v: string | number | undefined) => (typeof v === 'number' ? formatNumber(v) : (v ?? ''));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => text(r[c]).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(columns));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(columns.map((c) => text(r[c]))));
}

export function printTargets(targets: Target[]): void {
  for (const t of targets)
    console.log(`${t.pass ? 'PASS' : 'MISS'}  ${t.name}: ${formatNumber(t.value)} (target ≥ ${formatNumber(t.required)})`);
}

function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** Writes bench-results/<name>.json and returns its path. */
export function writeResults(name: string, data: unknown): string {
  const dir = new URL('../../bench-results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL(`${name}.json`, dir);
  writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), machine: machine(), ...(data as object) }, null, 2)}\n`);
  return file.pathname;
}
