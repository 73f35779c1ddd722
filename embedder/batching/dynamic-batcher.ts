// Coalesces items from many concurrent requests into model-sized batches.
// One batch runs at a time (the model is the bottleneck; two batches at once
// only compete for the same cores or GPU), while requests keep queueing.

export interface BatcherOptions {
  /** Most items per model call. */
  maxBatchSize: number;
  /** How long the first queued item may wait for others to join its batch. */
  maxWaitMs: number;
  /** Most items waiting; beyond it submissions fail fast with QueueFullError. */
  maxQueue: number;
  /** Longest a request may take from its start (see `submit`) to result before it fails with QueueTimeoutError. */
  timeoutMs: number;
}

/** Why items left the queue without reaching the model: their client went away, or their request ran out of time. */
export type DropReason = 'cancelled' | 'timeout';

export interface BatcherHooks {
  onBatch?(size: number, seconds: number): void;
  onQueueDepth?(depth: number): void;
  /** Items of a request that failed before they reached the model (never queued, or taken out of the queue). */
  onDrop?(items: number, reason: DropReason): void;
}

export class QueueFullError extends Error {
  constructor(
    readonly queue: string,
    readonly retryAfterSeconds: number,
  ) {
    super(`the ${queue} queue is full; retry in ${retryAfterSeconds} s`);
    this.name = 'QueueFullError';
  }
}

export class ShuttingDownError extends Error {
  constructor(queue: string) {
    super(`the ${queue} queue is shutting down`);
    this.name = 'ShuttingDownError';
  }
}

export class QueueTimeoutError extends Error {
  constructor(queue: string, timeoutMs: number) {
    super(`the ${queue} request did not complete within ${timeoutMs} ms`);
    this.name = 'QueueTimeoutError';
  }
}

interface Pending<I, O> {
  item: I;
  request: RequestState<O>;
  index: number;
  queuedAt: number;
}

interface RequestState<O> {
  results: O[];
  remaining: number;
  settled: boolean;
  resolve(results: O[]): void;
  reject(error: unknown): void;
}

export class DynamicBatcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private recentBatchSeconds = 0.1;

  constructor(
    readonly name: string,
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly options: BatcherOptions,
    private readonly hooks: BatcherHooks = {},
  ) {}

  /**
   * Queues a request's items; resolves with their outputs in order.
   * `signal` aborted (the client went away) fails the request with its reason, and `timeoutMs` counts from
   * `startedAt` (default: now), so work done before submitting (decoding images) counts against it.
   * Either way the request's items that have not reached the model never do.
   */
  submit(items: I[], signal?: AbortSignal, startedAt = performance.now()): Promise<O[]> {
    if (this.closed) return Promise.reject(new ShuttingDownError(this.name));
    if (items.length === 0) return Promise.resolve([]);
    const remainingMs = this.options.timeoutMs - (performance.now() - startedAt);
    if (signal?.aborted) return this.refuse(items.length, 'cancelled', abortReason(signal));
    if (remainingMs <= 0) return this.refuse(items.length, 'timeout', new QueueTimeoutError(this.name, this.options.timeoutMs));
    if (this.queue.length + items.length > this.options.maxQueue) {
      const batchesAhead = Math.ceil((this.queue.length + items.length) / this.options.maxBatchSize);
      return Promise.reject(new QueueFullError(this.name, Math.max(1, Math.ceil(batchesAhead * this.recentBatchSeconds))));
    }
    return new Promise<O[]>((resolve, reject) => {
      const request: RequestState<O> = {
        results: new Array<O>(items.length),
        remaining: items.length,
        settled: false,
        resolve,
        reject,
      };
      const queuedAt = performance.now();
      const pending = items.map((item, index) => ({ item, request, index, queuedAt }));
      const fail = (reason: DropReason, error: unknown) => {
        if (request.settled) return;
        const queued = this.queue.length;
        this.queue = this.queue.filter((p) => p.request !== request);
        const dropped = queued - this.queue.length;
        this.hooks.onQueueDepth?.(this.queue.length);
        if (dropped > 0) this.hooks.onDrop?.(dropped, reason);
        this.settle(request, error);
      };
      const timeout = setTimeout(() => fail('timeout', new QueueTimeoutError(this.name, this.options.timeoutMs)), remainingMs);
      const onAbort = () => fail('cancelled', abortReason(signal!));
      signal?.addEventListener('abort', onAbort, { once: true });
      request.resolve = (results) => {
        clearTimeout(timeout);
        signal?.removeEventListener('abort', onAbort);
        resolve(results);
      };
      request.reject = (error) => {
        clearTimeout(timeout);
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      };
      this.queue.push(...pending);
      this.hooks.onQueueDepth?.(this.queue.length);
      this.schedule();
    });
  }

  /** Stops accepting work and resolves once everything queued has run. */
  async drain(): Promise<void> {
    this.closed = true;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.schedule();
    if (!this.running && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.running || this.queue.length === 0) return;
    if (this.closed || this.queue.length >= this.options.maxBatchSize) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      void this.runBatch();
    } else if (!this.timer) {
      const waited = performance.now() - this.queue[0]!.queuedAt;
      this.timer = setTimeout(
        () => {
          this.timer = null;
          void this.runBatch();
        },
        Math.max(0, this.options.maxWaitMs - waited),
      );
    }
  }

  private async runBatch(): Promise<void> {
    const batch = this.queue.splice(0, this.options.maxBatchSize).filter((p) => !p.request.settled);
    this.hooks.onQueueDepth?.(this.queue.length);
    if (batch.length > 0) {
      this.running = true;
      const started = performance.now();
      try {
        const outputs = await this.run(batch.map((p) => p.item));
        batch.forEach((p, i) => this.deliver(p, outputs[i]!));
      } catch (error) {
        for (const p of batch) this.settle(p.request, error);
      } finally {
        this.running = false;
        this.recentBatchSeconds = (performance.now() - started) / 1000;
        this.hooks.onBatch?.(batch.length, this.recentBatchSeconds);
      }
    }
    if (this.queue.length > 0) this.schedule();
    else if (this.closed) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private deliver(p: Pending<I, O>, output: O): void {
    const r = p.request;
    if (r.settled) return;
    r.results[p.index] = output;
    if (--r.remaining === 0) {
      r.settled = true;
      r.resolve(r.results);
    }
  }

  /** Fails a request before any of its items is queued. */
  private refuse(items: number, reason: DropReason, error: unknown): Promise<never> {
    this.hooks.onDrop?.(items, reason);
    return Promise.reject(error);
  }

  private settle(request: RequestState<O>, error: unknown): void {
    if (request.settled) return;
    request.settled = true;
    request.reject(error);
  }
}

const abortReason = (signal: AbortSignal): unknown => signal.reason ?? new Error('request aborted');
