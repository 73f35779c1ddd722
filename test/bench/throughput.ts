// Images/s and texts/s of one embedding implementation, measured the same way for loadClip and for
// transformers.js (which runs in a process of its own: its onnxruntime-node is another version than
// the embedder's, and two cannot be loaded in one process).

export interface Throughput {
  imagesPerSecond: number;
  textsPerSecond: number;
}

export interface Workload {
  /** Images of one call; `imageCalls` calls are timed, one at a time, after one warm-up call. */
  photos: Uint8Array[];
  imageCalls: number;
  /** Texts of one call; `textCalls` calls are timed after one warm-up call. */
  texts: string[];
  textCalls: number;
  /** Each figure is the best of this many rounds. */
  rounds: number;
}

async function perSecond(items: number, calls: number, call: () => Promise<unknown>): Promise<number> {
  await call();
  const started = performance.now();
  for (let i = 0; i < calls; i++) await call();
  return (calls * items) / ((performance.now() - started) / 1000);
}

export async function measureThroughput(
  embedImages: (images: Uint8Array[]) => Promise<unknown>,
  embedTexts: (texts: string[]) => Promise<unknown>,
  work: Workload,
): Promise<Throughput> {
  const best = { imagesPerSecond: 0, textsPerSecond: 0 };
  for (let round = 0; round < work.rounds; round++) {
    best.imagesPerSecond = Math.max(best.imagesPerSecond, await perSecond(work.photos.length, work.imageCalls, () => embedImages(work.photos)));
    best.textsPerSecond = Math.max(best.textsPerSecond, await perSecond(work.texts.length, work.textCalls, () => embedTexts(work.texts)));
  }
  return best;
}
