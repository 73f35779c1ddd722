// A circuit breaker per upstream: after `failures` consecutive failures the
// circuit opens and calls skip the upstream for `cooldownMs`; then one trial
// call is let through (half-open), which closes it again on success.
export type BreakerState = 'closed' | 'open' | 'half-open';

export class CircuitBreaker {
  #failures = 0;
  #openedAt = 0;
  #state: BreakerState = 'closed';
  #trialInFlight = false;

  constructor(
    readonly failures: number,
    readonly cooldownMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): BreakerState {
    if (this.#state === 'open' && this.now() - this.#openedAt >= this.cooldownMs) this.#state = 'half-open';
    return this.#state;
  }

  /** Milliseconds until an open circuit lets a trial call through (0 when not open). */
  get retryInMs(): number {
    return this.state === 'open' ? Math.max(0, this.cooldownMs - (this.now() - this.#openedAt)) : 0;
  }

  /** Whether a call may go to this upstream now; a half-open circuit admits one trial at a time. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.#trialInFlight) return false;
    this.#trialInFlight = true;
    return true;
  }

  success(): void {
    this.#failures = 0;
    this.#state = 'closed';
    this.#trialInFlight = false;
  }

  failure(): void {
    this.#trialInFlight = false;
    this.#failures++;
    if (this.#state === 'half-open' || this.#failures >= this.failures) {
      this.#state = 'open';
      this.#openedAt = this.now();
    }
  }
}
