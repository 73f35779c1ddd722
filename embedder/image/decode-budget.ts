// The pixel memory all decodes in a process may hold at once. Each image is
// under the pixel limit on its own, but nothing else bounded how many were
// decoded together: 16 requests of a 7000×7000 image hold 2.3 GB. A decode
// reserves what it will hold before it starts, waits briefly when the budget
// is spent, and is refused after that wait (the HTTP layer answers 503 with
// Retry-After), so memory stays bounded however many requests arrive.

/** The budget stayed spent for the whole wait. */
export class DecodeBudgetError extends Error {
  override readonly name = 'DecodeBudgetError';
  readonly retryAfterSeconds = 1;

  constructor(
    readonly bytes: number,
    readonly capacityBytes: number,
    readonly waitedMs: number,
  ) {
    super(`too many large images are being decoded at once (the ${capacityBytes}-byte decode budget stayed spent for ${waitedMs} ms); retry shortly`);
  }
}

interface Waiter {
  bytes: number;
  grant: () => void;
}

/**
 * A counting semaphore over bytes, first come first served: a large image at
 * the head of the line is not overtaken by smaller ones behind it. A request
 * larger than the whole budget is charged the whole budget, so it runs alone
 * rather than never.
 */
export class DecodeBudget {
  #inUse = 0;
  readonly #waiting: Waiter[] = [];

  constructor(
    readonly capacityBytes: number,
    /** How long a decode waits for room before it is refused. */
    readonly maxWaitMs: number,
  ) {
    if (!(capacityBytes > 0)) throw new RangeError(`decode budget must be positive (got ${capacityBytes})`);
  }

  /** Bytes reserved by decodes under way. */
  get inUseBytes(): number {
    return this.#inUse;
  }

  /** Decodes waiting for room. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Reserves `bytes` for one decode; resolves with the function that returns them (call it once the pixels are released). */
  async reserve(bytes: number): Promise<() => void> {
    const charge = Math.min(Math.max(0, Math.ceil(bytes)), this.capacityBytes);
    if (this.#waiting.length === 0 && this.#inUse + charge <= this.capacityBytes) {
      this.#inUse += charge;
      return this.#releaser(charge);
    }
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        bytes: charge,
        grant: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
        reject(new DecodeBudgetError(charge, this.capacityBytes, this.maxWaitMs));
        // The head of the line may have been what held the others back.
        this.#grant();
      }, this.maxWaitMs);
      this.#waiting.push(waiter);
    });
    return this.#releaser(charge);
  }

  #releaser(charge: number): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inUse -= charge;
      this.#grant();
    };
  }

  /** Admits waiters from the head of the line while they fit. */
  #grant(): void {
    for (let head = this.#waiting[0]; head && this.#inUse + head.bytes <= this.capacityBytes; head = this.#waiting[0]) {
      this.#waiting.shift();
      this.#inUse += head.bytes;
      head.grant();
    }
  }
}
