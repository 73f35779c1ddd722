import { describe, expect, it } from 'vitest';
import { DynamicBatcher, QueueFullError, QueueTimeoutError, type BatcherOptions, type DropReason } from '../../embedder/batching/dynamic-batcher.ts';
import { sleep } from '../support/timing.ts';

/** A batcher over a model stand-in that squares numbers and records each batch it was given, and each drop. */
function squaring(options: Partial<BatcherOptions> = {}, delayMs = 5) {
  const batches: number[][] = [];
  const drops: [number, DropReason][] = [];
  const batcher = new DynamicBatcher<number, number>(
    'test',
    async (items) => {
      batches.push(items);
      await sleep(delayMs);
      return items.map((x) => x * x);
    },
    { maxBatchSize: 8, maxWaitMs: 10, maxQueue: 100, timeoutMs: 1000, ...options },
    { onDrop: (items, reason) => drops.push([items, reason]) },
  );
  return { batcher, batches, drops };
}

describe('DynamicBatcher', () => {
  it('coalesces concurrent requests into one batch and returns each its own results in order', async () => {
    const { batcher, batches } = squaring();
    const results = await Promise.all([batcher.submit([1, 2]), batcher.submit([3]), batcher.submit([4, 5, 6])]);
    expect(results).toEqual([[1, 4], [9], [16, 25, 36]]);
    expect(batches).toEqual([[1, 2, 3, 4, 5, 6]]);
  });

  it('never exceeds the maximum batch size, splitting a large request across batches', async () => {
    const { batcher, batches } = squaring({ maxBatchSize: 4 });
    const out = await batcher.submit([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(out).toEqual([1, 4, 9, 16, 25, 36, 49, 64, 81, 100]);
    expect(batches.map((b) => b.length)).toEqual([4, 4, 2]);
  });

  it('runs a lone request after maxWaitMs instead of waiting for a full batch', async () => {
    const { batcher } = squaring({ maxWaitMs: 20 });
    const started = performance.now();
    expect(await batcher.submit([3])).toEqual([9]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(15);
  });

  it('rejects with QueueFullError and a Retry-After hint instead of growing without bound', async () => {
    const { batcher } = squaring({ maxQueue: 4, maxBatchSize: 2 }, 30);
    const first = batcher.submit([1, 2, 3, 4]); // two start at once, two wait
    const second = batcher.submit([5, 6]); // fills the queue
    const error = await batcher.submit([7]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueFullError);
    expect((error as QueueFullError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(await Promise.all([first, second])).toEqual([[1, 4, 9, 16], [25, 36]]);
  });

  it('fails a request that waits longer than the timeout, and the batcher keeps serving', async () => {
    const { batcher } = squaring({ maxBatchSize: 1, timeoutMs: 100 }, 30);
    const slow = batcher.submit([1, 2, 3, 4, 5]); // five sequential 30 ms batches
    await expect(slow).rejects.toBeInstanceOf(QueueTimeoutError);
    await sleep(40); // let the batch in flight finish
    expect(await batcher.submit([7])).toEqual([49]);
  });

  it('drops the items of a request whose client went away before they ran', async () => {
    const { batcher, batches, drops } = squaring({ maxBatchSize: 2 }, 20);
    const controller = new AbortController();
    const kept = batcher.submit([1, 2]);
    const dropped = batcher.submit([3, 4], controller.signal);
    controller.abort(new Error('client disconnected'));
    await expect(dropped).rejects.toThrow('client disconnected');
    expect(await kept).toEqual([1, 4]);
    await sleep(50);
    expect(batches.flat()).not.toContain(3);
    expect(drops).toEqual([[2, 'cancelled']]);
  });

  it('never queues a request whose client went away before it was submitted (while its images were decoding)', async () => {
    const { batcher, batches, drops } = squaring();
    const controller = new AbortController();
    controller.abort(new Error('client disconnected'));
    const dropped = batcher.submit([3, 4], controller.signal);
    const kept = batcher.submit([5]);
    await expect(dropped).rejects.toThrow('client disconnected');
    expect(await kept).toEqual([25]);
    // Submitted together, the two would have shared this batch.
    expect(batches).toEqual([[5]]);
    expect(drops).toEqual([[2, 'cancelled']]);
  });

  it('counts the timeout from when the request started, so one whose decoding used it all never reaches the model', async () => {
    const { batcher, batches, drops } = squaring({ timeoutMs: 1000 });
    const startedBeforeItsTimeout = performance.now() - 1001;
    const late = batcher.submit([3], undefined, startedBeforeItsTimeout);
    const kept = batcher.submit([5], undefined, performance.now());
    await expect(late).rejects.toBeInstanceOf(QueueTimeoutError);
    expect(await kept).toEqual([25]);
    expect(batches).toEqual([[5]]);
    expect(drops).toEqual([[1, 'timeout']]);
  });

  it('passes a model failure to every request in the batch and keeps serving', async () => {
    let fail = true;
    const batcher = new DynamicBatcher<number, number>(
      'flaky',
      async (items) => {
        if (fail) throw new Error('model exploded');
        return items;
      },
      { maxBatchSize: 8, maxWaitMs: 5, maxQueue: 10, timeoutMs: 1000 },
    );
    await expect(Promise.all([batcher.submit([1]), batcher.submit([2])])).rejects.toThrow('model exploded');
    fail = false;
    expect(await batcher.submit([3])).toEqual([3]);
  });

  it('drain finishes what is queued, then refuses new work', async () => {
    const { batcher } = squaring({ maxBatchSize: 2, maxWaitMs: 1000 });
    const queued = batcher.submit([1, 2, 3]);
    await batcher.drain();
    expect(await queued).toEqual([1, 4, 9]);
    await expect(batcher.submit([4])).rejects.toThrow('shutting down');
  });
});
