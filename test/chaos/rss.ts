// Resident memory of the stack's processes, sampled over a run (Linux /proc),
// and whether it grows: the least-squares slope over each process's life and
// the median of its last quarter against its first.
import { existsSync, readdirSync, readFileSync } from 'node:fs';

export interface RssSample {
  /** Seconds since the run started. */
  t: number;
  pid: number;
  mb: number;
}

export const canSampleRss = existsSync('/proc/self/status');

/** A process's resident set in MB, or undefined when it is gone. */
export function rssMb(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Child processes of `parent` whose command name is `name` (e.g. the workerd Miniflare started). */
export function childrenNamed(parent: number, name: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === parent && comm === name;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Samples every named process each `intervalMs` until stopped; `pids` is asked each time (pids change on restarts). */
export function sampleRss(pids: () => Record<string, number | undefined>, intervalMs = 1000) {
  const samples = new Map<string, RssSample[]>();
  const started = performance.now();
  const take = () => {
    const t = (performance.now() - started) / 1000;
    for (const [name, pid] of Object.entries(pids())) {
      if (pid === undefined) continue;
      const mb = rssMb(pid);
      if (mb === undefined) continue;
      if (!samples.has(name)) samples.set(name, []);
      samples.get(name)!.push({ t, pid, mb });
    }
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    stop(): Map<string, RssSample[]> {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

export interface RssSummary {
  process: string;
  samples: number;
  restarts: number;
  minMb: number;
  medianMb: number;
  maxMb: number;
  /**
   * The trend over the longest-lived process instance, its first quarter (start-up, caches
   * and JIT filling) left out: MB per minute (least squares), and the median of its last
   * quarter minus that of its first.
   */
  slopeMbPerMin: number;
  growthMb: number;
  /** The span (seconds into the run) the trend was measured over. */
  fromS: number;
  toS: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};
const round = (v: number) => Math.round(v * 10) / 10;

export function summarizeRss(name: string, samples: RssSample[]): RssSummary {
  const mbs = samples.map((s) => s.mb);
  const instances = new Map<number, RssSample[]>();
  for (const sample of samples) instances.set(sample.pid, [...(instances.get(sample.pid) ?? []), sample]);
  const longest = [...instances.values()].sort((a, b) => b.length - a.length)[0]!;
  const settled = longest.slice(Math.floor(longest.length / 4));
  const n = settled.length;
  const meanT = settled.reduce((a, s) => a + s.t, 0) / n;
  const meanMb = settled.reduce((a, s) => a + s.mb, 0) / n;
  const covariance = settled.reduce((a, s) => a + (s.t - meanT) * (s.mb - meanMb), 0);
  const variance = settled.reduce((a, s) => a + (s.t - meanT) ** 2, 0);
  const quarter = Math.max(1, Math.floor(n / 4));
  return {
    process: name,
    samples: samples.length,
    restarts: instances.size - 1,
    minMb: round(Math.min(...mbs)),
    medianMb: round(median(mbs)),
    maxMb: round(Math.max(...mbs)),
    slopeMbPerMin: variance > 0 ? round((covariance / variance) * 60) : 0,
    growthMb: round(median(settled.slice(-quarter).map((s) => s.mb)) - median(settled.slice(0, quarter).map((s) => s.mb))),
    fromS: round(settled[0]!.t),
    toS: round(settled.at(-1)!.t),
  };
}
