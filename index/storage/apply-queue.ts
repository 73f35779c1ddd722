// Applies durable mutations to the in-memory index one after another, in log
// order. A large insert or upsert goes in a chunk at a time (VectorIndex.applySteps)
// with a turn of the event loop between chunks, so queries are answered while
// it is applied instead of waiting behind it.
import type { VectorIndex } from '../engine/vector-index.ts';
import type { Mutation } from '../types.ts';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class ApplyQueue {
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly index: VectorIndex) {}

  /** Resolves once `mutation`, and every mutation enqueued before it, is applied. */
  enqueue(mutation: Mutation): Promise<void> {
    const applied = this.tail.then(() => this.applyInSteps(mutation));
    this.tail = applied.catch(() => {});
    return applied;
  }

  /** Resolves once everything enqueued so far is applied (failed or not). */
  idle(): Promise<void> {
    return this.tail;
  }

  private async applyInSteps(mutation: Mutation): Promise<void> {
    const steps = this.index.applySteps(mutation);
    while (!steps.next().done) await nextTurn();
  }
}
