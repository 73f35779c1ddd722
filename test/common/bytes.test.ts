import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { collectBytes, concatBytes, readAtMost } from '../../common/bytes.ts';

const bytes = (...values: number[]) => Uint8Array.from(values);

describe('concatBytes', () => {
  it('joins the parts, in order, into an array of its own', () => {
    const backing = bytes(9, 1, 2, 9);
    const joined = concatBytes([backing.subarray(1, 3), bytes(), bytes(3)]);
    expect(Array.from(joined)).toEqual([1, 2, 3]);
    expect([joined.byteOffset, joined.buffer.byteLength]).toEqual([0, 3]);
    expect(concatBytes([]).length).toBe(0);
  });
});

describe('collectBytes', () => {
  it('copies what a writer sends through a reused buffer', () => {
    const scratch = new Uint8Array(2);
    const out = collectBytes(5, (sink) => {
      for (const pair of [[1, 2], [3, 4]]) {
        scratch.set(pair);
        sink(scratch);
      }
      scratch[0] = 5;
      sink(scratch.subarray(0, 1));
    });
    expect(Array.from(out)).toEqual([1, 2, 3, 4, 5]);
  });

  it('refuses a writer that sends more or fewer bytes than announced', () => {
    expect(() => collectBytes(2, (sink) => sink(bytes(1, 2, 3)))).toThrow(RangeError);
    expect(() => collectBytes(2, (sink) => sink(bytes(1)))).toThrow(RangeError);
  });
});

describe('readAtMost', () => {
  const webStream = (chunks: Uint8Array[], onCancel: () => void) =>
    new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
      cancel: onCancel,
    });

  it('reads a web stream or a Node stream up to the cap', async () => {
    const web = await readAtMost(webStream([bytes(1, 2), bytes(3)], () => {}), 3);
    expect(Array.from(web!)).toEqual([1, 2, 3]);
    const node = await readAtMost(Readable.from([Buffer.from([4]), Buffer.from([5, 6])]), 3);
    expect(Array.from(node!)).toEqual([4, 5, 6]);
  });

  it('stops at the first chunk past the cap and cancels the rest', async () => {
    let cancelled = false;
    expect(await readAtMost(webStream([bytes(1, 2), bytes(3, 4), bytes(5)], () => void (cancelled = true)), 3)).toBeNull();
    expect(cancelled).toBe(true);
    const node = Readable.from([Buffer.from([1, 2]), Buffer.from([3, 4]), Buffer.from([5])]);
    expect(await readAtMost(node, 3)).toBeNull();
    expect(node.destroyed).toBe(true);
  });
});
