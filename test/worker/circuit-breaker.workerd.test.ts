// The circuit breaker's readiness probes, in workerd, on a clock the test
// moves: an open circuit asks the upstream whether it is ready once per probe
// interval, a ready upstream gets its trial at once, and one that says it is
// ready but fails the trial is asked less and less often.
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../worker/embedding/circuit-breaker.ts';

const opened = (now: () => number, cooldownMs = 10_000, probeMs = 500) => {
  const breaker = new CircuitBreaker(1, cooldownMs, now, probeMs);
  expect(breaker.tryAcquire()).toBe(true);
  breaker.failure();
  expect(breaker.state).toBe('open');
  return breaker;
};

describe('CircuitBreaker readiness probes', () => {
  it('probes once per interval while open, one probe at a time, and says when to retry', () => {
    let now = 0;
    const breaker = opened(() => now);
    expect(breaker.claimProbe()).toBe(false); // not before the first interval
    expect(breaker.retryInMs).toBe(500);
    now = 500;
    expect(breaker.claimProbe()).toBe(true);
    expect(breaker.claimProbe()).toBe(false); // one in flight
    breaker.probed(false);
    expect(breaker.state).toBe('open');
    expect(breaker.tryAcquire()).toBe(false);
    expect(breaker.retryInMs).toBe(500);
    now = 900;
    expect(breaker.claimProbe()).toBe(false);
    now = 1000;
    expect(breaker.claimProbe()).toBe(true);
  });

  it('lets the trial through as soon as a probe says ready, long before the cooldown ends', () => {
    let now = 0;
    const breaker = opened(() => now, 60_000);
    now = 500;
    expect(breaker.claimProbe()).toBe(true);
    breaker.probed(true);
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false); // one trial at a time
    breaker.success();
    expect(breaker.state).toBe('closed');
    expect(breaker.retryInMs).toBe(0);
  });

  it('probes half as often each time a ready upstream fails its trial, up to the cooldown, and resets on success', () => {
    let now = 0;
    const breaker = opened(() => now, 3000);
    const failTrialAfterReadyProbe = () => {
      expect(breaker.claimProbe()).toBe(true);
      breaker.probed(true);
      expect(breaker.tryAcquire()).toBe(true);
      breaker.failure();
      expect(breaker.state).toBe('open');
    };
    const intervals: number[] = [];
    for (let i = 0; i < 3; i++) {
      now += breaker.retryInMs;
      failTrialAfterReadyProbe();
      intervals.push(breaker.retryInMs);
    }
    expect(intervals).toEqual([1000, 2000, 3000]);
    now += 3000;
    expect(breaker.state).toBe('half-open'); // at the cap, the cooldown's own trial comes first
    expect(breaker.tryAcquire()).toBe(true);
    breaker.success();
    now += 1;
    breaker.tryAcquire();
    breaker.failure();
    expect(breaker.retryInMs).toBe(500);
  });
});
