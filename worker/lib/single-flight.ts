// Coalesces identical concurrent work inside one isolate: callers with the
// same key while a call is in flight share its result.
//
// workerd tracks pending I/O per request. A request that only awaits a
// promise whose I/O belongs to another request has nothing pending of its
// own, and the runtime may cancel it as hung ("your Worker's code had hung").
// So a follower also waits on a timer of its own: that keeps it alive, and if
// the leader takes longer than `followerWaitMs` (or its request was canceled,
// leaving a promise that never settles), the follower drops that flight and
// leads a new one.
const TIMED_OUT = Symbol('timed out');

export class SingleFlight<T> {
  readonly #inFlight = new Map<string, Promise<T>>();

  constructor(private readonly followerWaitMs: number) {}

  run(key: string, work: () => Promise<T>): Promise<T> {
    const pending = this.#inFlight.get(key);
    if (pending) return this.#follow(key, pending, work);
    const promise = work().finally(() => {
      if (this.#inFlight.get(key) === promise) this.#inFlight.delete(key);
    });
    this.#inFlight.set(key, promise);
    return promise;
  }

  get size(): number {
    return this.#inFlight.size;
  }

  async #follow(key: string, shared: Promise<T>, work: () => Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), this.followerWaitMs);
    });
    try {
      const winner = await Promise.race([shared, deadline]);
      if (winner !== TIMED_OUT) return winner;
      if (this.#inFlight.get(key) === shared) this.#inFlight.delete(key);
      return await this.run(key, work);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }
}
