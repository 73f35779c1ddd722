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

/** Something that happens once; listeners can come and go before it does. */
export class Signal {
  private readonly listeners = new Set<() => void>();
  fired = false;

  fire(): void {
    if (this.fired) return;
    this.fired = true;
    for (const listener of this.listeners) listener();
    this.listeners.clear();
  }

  /** Calls `listener` when the signal fires (at once if it has); returns the function that unsubscribes. */
  subscribe(listener: () => void): () => void {
    if (this.fired) {
      listener();
      return () => {};
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/**
 * The items of `source` until `stop` fires. A pending read (stdin waiting for a line) is abandoned,
 * not awaited, when it does.
 */
export async function* until<T>(source: AsyncIterable<T>, stop: Signal): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let pending = false;
  try {
    while (!stop.fired) {
      const next = iterator.next();
      pending = true;
      next.then(() => (pending = false), () => (pending = false));
      // A promise per read, dropped after it: racing one long-lived promise would pile a reaction
      // (holding each entry) onto it for every read of the run.
      let unsubscribe = () => {};
      const stopped = new Promise<'stopped'>((resolve) => (unsubscribe = stop.subscribe(() => resolve('stopped'))));
      const first = await Promise.race([next, stopped]);
      unsubscribe();
      if (first === 'stopped' || first.done) return;
      yield first.value;
    }
  } finally {
    // Closing an iterator with a read in flight would wait for that read.
    if (!pending) await iterator.return?.(undefined);
  }
}
