// Throughput measured the same way on both sides of a comparison (loadClip here, transformers.js in
// transformers-process.ts), and the interleaving of the sides.

/** Items per second over `calls` calls of `items` items each, `inFlight` at a time, after one warm-up call. */
export async function perSecond(items: number, calls: number, call: () => Promise<unknown>, inFlight = 1): Promise<number> {
  await call();
  let next = 0;
  const worker = async () => {
    while (next++ < calls) await call();
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  return (calls * items) / ((performance.now() - started) / 1000);
}

/**
 * Each side's best figure (`keep`: the highest rate or the lowest time) over `rounds` interleaved
 * rounds, the side that goes first alternating: on a shared machine a burst of load then hits every
 * side alike.
 */
export async function interleave<Side extends string>(
  rounds: number,
  sides: Record<Side, () => Promise<number>>,
  keep: 'highest' | 'lowest' = 'highest',
): Promise<Record<Side, number>> {
  const order = Object.keys(sides) as Side[];
  const better = keep === 'highest' ? Math.max : Math.min;
  const best = Object.fromEntries(order.map((side) => [side, keep === 'highest' ? -Infinity : Infinity])) as Record<Side, number>;
  for (let round = 0; round < rounds; round++)
    for (const side of round % 2 ? order.toReversed() : order) best[side] = better(best[side], await sides[side]());
  return best;
}
