// Small primitives for a bounded pipeline.

/** At most `permits` holders at a time; the rest wait in order. */
export class Semaphore {
  private readonly waiting: (() => void)[] = [];

  constructor(private free: number) {}

  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/** A promise settled from outside, once. */
export class Signal {
  private resolveFn!: () => void;
  readonly promise = new Promise<void>((resolve) => (this.resolveFn = resolve));
  fired = false;

  fire(): void {
    this.fired = true;
    this.resolveFn();
  }
}

/**
 * The items of `source` until `stop` fires. A pending read (stdin waiting for a line) is abandoned,
 * not awaited, when it does.
 */
export async function* until<T>(source: AsyncIterable<T>, stop: Signal): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  const stopped = stop.promise.then(() => 'stopped' as const);
  let pending = false;
  try {
    while (!stop.fired) {
      const next = iterator.next();
      pending = true;
      next.then(() => (pending = false), () => (pending = false));
      const first = await Promise.race([next, stopped]);
      if (first === 'stopped' || first.done) return;
      yield first.value;
    }
  } finally {
    // Closing an iterator with a read in flight would wait for that read.
    if (!pending) await iterator.return?.(undefined);
  }
}
