// Seeded choices for the scene generator, on model-gen's platform-exact SFC32
// generator: one independent stream per (seed, split, item), so an item does
// not depend on how many items were drawn before it.
import { Sfc32 } from '../../embedder/model-gen/prng.ts';

export class Random {
  private readonly rng: Sfc32;

  constructor(seed: number, stream: string) {
    this.rng = new Sfc32(seed, stream);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.rng.nextUint32() / 4294967296;
  }

  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('cannot pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Approximately normal (sum of four uniforms), mean 0, standard deviation 1. */
  normal(): number {
    return (this.next() + this.next() + this.next() + this.next() - 2) * Math.sqrt(3);
  }
}
