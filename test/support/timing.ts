/**
 * Waiting in tests and benchmarks: a plain pause, and polling until something holds. Free of
 * vitest (the benchmarks run without it) and of Node APIs (the Workers-runtime tests use it too).
 */

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface EventuallyOptions {
  /** Give up after this long (default 20 s: generous, for a loaded machine). */
  timeoutMs?: number;
  /** Pause between probes (default 100 ms). */
  intervalMs?: number;
}

/**
 * Calls `probe` until it returns something other than undefined and returns that; after
 * `timeoutMs` fails with "timed out waiting for <what>".
 */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, options: EventuallyOptions = {}): Promise<T> {
  const { timeoutMs = 20_000, intervalMs = 100 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}
