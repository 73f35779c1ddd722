// Progress while the backfill runs: a bar with count, rate and ETA on a
// terminal (cli-progress), a plain line every few seconds otherwise; and the
// final summary.
import cliProgress from 'cli-progress';
import { setLogSink } from './log.ts';
import type { Counters } from './pipeline.ts';

export const settled = (c: Counters) => c.indexed + c.skipped + c.failed + c.ignored;

/** 75 → "1m 15s". */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** Items settled per second over the last half minute, so that a resume's fast skips do not skew the ETA for long. */
class RecentRate {
  private readonly samples: { at: number; done: number }[] = [];

  sample(done: number, at = performance.now()): number {
    this.samples.push({ at, done });
    while (this.samples.length > 2 && at - this.samples[0]!.at > 30_000) this.samples.shift();
    const first = this.samples[0]!;
    return at > first.at ? ((done - first.done) * 1000) / (at - first.at) : 0;
  }
}

export interface ProgressOptions {
  counters: Counters;
  /** Draw a bar (stderr is a terminal), else log a line every `intervalMs`. */
  tty: boolean;
  intervalMs: number;
}

export class Progress {
  private total: number | undefined;
  private readonly rate = new RecentRate();
  private readonly timer: NodeJS.Timeout;
  private readonly bars: cliProgress.MultiBar | undefined;
  private readonly bar: cliProgress.SingleBar | undefined;
  private restoreLog: ((line: string) => void) | undefined;

  constructor(private readonly options: ProgressOptions) {
    if (options.tty) {
      this.bars = new cliProgress.MultiBar(
        {
          format: '{bar} {value}/{totalText} | {rate} items/s | ETA {etaText} | indexed {indexed}, skipped {skipped}, failed {failed}, ignored {ignored}',
          hideCursor: true,
          clearOnComplete: true,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar = this.bars.create(1, 0, this.payload(0));
      const bars = this.bars;
      this.restoreLog = setLogSink((line) => bars.log(`${line}\n`));
      this.timer = setInterval(() => this.draw(), 250);
    } else {
      this.timer = setInterval(() => process.stderr.write(`${this.line()}\n`), options.intervalMs);
    }
    this.timer.unref();
  }

  setTotal(total: number): void {
    this.total = total;
  }

  private payload(rate: number) {
    const c = this.options.counters;
    const done = settled(c);
    return {
      totalText: this.total ?? '?',
      rate: rate.toFixed(1),
      etaText: this.total === undefined ? '?' : rate > 0 ? duration((this.total - done) / rate) : '?',
      indexed: c.indexed,
      skipped: c.skipped,
      failed: c.failed,
      ignored: c.ignored,
    };
  }

  private draw(): void {
    const done = settled(this.options.counters);
    const rate = this.rate.sample(done);
    this.bar!.setTotal(Math.max(this.total ?? done + 1, 1));
    this.bar!.update(done, this.payload(rate));
  }

  /** The plain progress line (also what the bar shows). */
  line(): string {
    const c = this.options.counters;
    const done = settled(c);
    const rate = this.rate.sample(done);
    const of = this.total === undefined ? '' : `/${this.total} (${Math.floor((100 * done) / Math.max(this.total, 1))}%)`;
    const eta = this.total !== undefined && rate > 0 ? `, ETA ${duration((this.total - done) / rate)}` : '';
    const rss = Math.round(process.memoryUsage.rss() / 2 ** 20);
    return `progress: ${done}${of} | indexed ${c.indexed}, skipped ${c.skipped}, failed ${c.failed}, ignored ${c.ignored} | ${rate.toFixed(1)} items/s${eta} | rss ${rss} MiB`;
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.bars) {
      this.draw();
      this.bars.stop();
      if (this.restoreLog) setLogSink(this.restoreLog);
    }
  }
}

/** The final summary. */
export function summary(c: Counters, seconds: number, errorsFile: string | undefined): string {
  const failed = c.failed && errorsFile ? ` (see ${errorsFile})` : '';
  return (
    `indexed ${c.indexed}, skipped ${c.skipped} (already indexed), failed ${c.failed}${failed}, ignored ${c.ignored} (not images); ` +
    `${seconds.toFixed(1)} s, ${(c.indexed / Math.max(seconds, 1e-9)).toFixed(1)} items/s`
  );
}
