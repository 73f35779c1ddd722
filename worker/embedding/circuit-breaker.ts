// A circuit breaker per upstream: after `failures` consecutive failures the
// circuit opens and calls skip the upstream. One trial call is let through
// (half-open) once the upstream says it is ready again, or at the latest after
// `cooldownMs`; the trial closes the circuit on success.
//
// Readiness is asked by the caller (the embedder's GET /readyz) when
// claimProbe() allows it: one probe at a time, the first `probeIntervalMs`
// after the circuit opened and then every `probeIntervalMs`. So a restarted
// upstream is used again within about one probe interval of being ready, and
// a trial never hits an upstream that is still loading its model. An upstream
// that says it is ready but then fails its trial is probed half as often each
// time (up to the cooldown), so it is not hammered.
export type BreakerState = 'closed' | 'open' | 'half-open';

/** The probe interval unless the cooldown is shorter. */
export const DEFAULT_PROBE_INTERVAL_MS = 500;

export class CircuitBreaker {
  #failures = 0;
  #openedAt = 0;
  #state: BreakerState = 'closed';
  #trialInFlight = false;
  #probeInFlight = false;
  #nextProbeAt = 0;
  #probeIntervalMs: number;

  constructor(
    readonly failures: number,
    readonly cooldownMs: number,
    private readonly now: () => number = Date.now,
    readonly probeIntervalMs: number = Math.min(DEFAULT_PROBE_INTERVAL_MS, cooldownMs),
  ) {
    this.#probeIntervalMs = probeIntervalMs;
  }

  get state(): BreakerState {
    if (this.#state === 'open' && this.now() - this.#openedAt >= this.cooldownMs) this.#state = 'half-open';
    return this.#state;
  }

  /** Milliseconds until an open circuit may let a call through: the next readiness probe or the end of the cooldown (0 when not open). */
  get retryInMs(): number {
    if (this.state !== 'open') return 0;
    const now = this.now();
    return Math.max(0, Math.min(this.cooldownMs - (now - this.#openedAt), this.#nextProbeAt - now));
  }

  /** Whether a call may go to this upstream now; a half-open circuit admits one trial at a time. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.#trialInFlight) return false;
    this.#trialInFlight = true;
    return true;
  }

  /**
   * Whether the caller should ask the upstream if it is ready, now: only while
   * the circuit is open, one probe at a time, once per probe interval. A true
   * answer must be followed by probed().
   */
  claimProbe(): boolean {
    if (this.state !== 'open' || this.#probeInFlight || this.now() < this.#nextProbeAt) return false;
    this.#probeInFlight = true;
    return true;
  }

  /** The answer of a claimed probe: a ready upstream gets its trial call at once. */
  probed(ready: boolean): void {
    this.#probeInFlight = false;
    this.#nextProbeAt = this.now() + this.#probeIntervalMs;
    if (ready && this.state === 'open') this.#state = 'half-open';
  }

  success(): void {
    this.#failures = 0;
    this.#state = 'closed';
    this.#trialInFlight = false;
    this.#probeIntervalMs = this.probeIntervalMs;
  }

  failure(): void {
    const trialFailed = this.#state === 'half-open';
    this.#trialInFlight = false;
    this.#failures++;
    if (trialFailed || this.#failures >= this.failures) {
      // Ready, yet the trial failed: probe less often from now on.
      if (trialFailed) this.#probeIntervalMs = Math.min(this.cooldownMs, this.#probeIntervalMs * 2);
      this.#state = 'open';
      this.#openedAt = this.now();
      this.#nextProbeAt = this.#openedAt + this.#probeIntervalMs;
    }
  }
}
