// One CLIP tower (text or vision) behind an ONNX session: finds the inputs
// and the embedding output by name, feeds the dtype the graph wants, loops
// over graphs exported with a fixed batch size, and L2-normalises the rows.
import { Tensor } from 'onnxruntime-node';
import { l2Normalize } from '../../native/index.ts';
import type { ModelSession } from './session-thread.ts';

export type Modality = 'text' | 'vision';

type Dim = number | string;
interface InputSpec {
  name: string;
  type: string;
  shape: readonly Dim[];
}

const INPUT_NAMES = {
  ids: ['input_ids', 'text', 'ids'],
  mask: ['attention_mask'],
  pixels: ['pixel_values', 'image', 'images'],
};
/** CLIP's embedding outputs (projected); a family with other names passes its own. */
export const CLIP_OUTPUT_NAMES: Record<Modality, readonly string[]> = {
  text: ['text_embeds', 'embedding', 'text_embedding', 'text_embeddings'],
  vision: ['image_embeds', 'embedding', 'image_embedding', 'image_embeddings'],
};

/** A batch of token ids, row-major `batch × length`, padded by the caller. */
export interface TokenBatch {
  ids: Int32Array;
  attentionMask: Int32Array;
  batch: number;
  length: number;
}

/** A batch of preprocessed images, `batch × 3 × size × size`. */
export interface PixelBatch {
  pixels: Float32Array;
  batch: number;
  size: number;
}

function inputSpecs(session: ModelSession): InputSpec[] {
  return session.inputMetadata.map((m) => {
    if (!m.isTensor) throw new Error(`model input ${m.name} is not a tensor`);
    return { name: m.name, type: m.type, shape: m.shape };
  });
}

const fixed = (d: Dim | undefined): number | null => (typeof d === 'number' && d > 0 ? d : null);

export class ClipTower {
  readonly inputs: InputSpec[];
  readonly outputName: string;
  /** Batch size baked into the graph (1 for Immich exports), or null when dynamic. */
  readonly fixedBatch: number | null;
  /** Sequence length baked into a text graph (77 for Immich exports), or null when dynamic. */
  readonly fixedLength: number | null;
  readonly dim: number | null;
  /** Runs are serialised: callers overlap their preprocessing with the run in flight, not runs with each other. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    readonly session: ModelSession,
    readonly modality: Modality,
    /** Ids [sot, eot] and image size, for feeding the other tower's inputs of a combined model. */
    private readonly placeholders: { ids: readonly number[]; imageSize: number },
    /** The output names that hold the embedding, the first one present wins. */
    outputNames: readonly string[] = CLIP_OUTPUT_NAMES[modality],
  ) {
    this.inputs = inputSpecs(session);
    const primary = this.input(modality === 'text' ? 'ids' : 'pixels');
    if (!primary)
      throw new Error(`${modality} model has no ${modality === 'text' ? 'token id' : 'pixel'} input (inputs: ${session.inputNames.join(', ')})`);
    const output = outputNames.find((n) => session.outputNames.includes(n));
    if (!output)
      throw new Error(`${modality} model has no embedding output (outputs: ${session.outputNames.join(', ')})`);
    this.outputName = output;
    this.fixedBatch = fixed(primary.shape[0]);
    this.fixedLength = modality === 'text' ? fixed(primary.shape[1]) : null;
    const meta = session.outputMetadata.find((m) => m.name === output);
    this.dim = meta?.isTensor ? fixed(meta.shape[1]) : null;
  }

  input(kind: keyof typeof INPUT_NAMES): InputSpec | undefined {
    return this.inputs.find((i) => INPUT_NAMES[kind].includes(i.name));
  }

  /** Unit-norm text embeddings, `batch × dim`. */
  async embedTokens(tokens: TokenBatch): Promise<Float32Array> {
    if (this.fixedLength !== null && tokens.length !== this.fixedLength)
      throw new Error(`text model takes sequences of exactly ${this.fixedLength} tokens (got ${tokens.length})`);
    return this.runInSlices(tokens.batch, (start, count) => {
      const span = [start * tokens.length, (start + count) * tokens.length] as const;
      return {
        ids: tokens.ids.subarray(...span),
        mask: tokens.attentionMask.subarray(...span),
        shape: [count, tokens.length],
      };
    });
  }

  /** Unit-norm image embeddings, `batch × dim`. */
  async embedPixels(images: PixelBatch): Promise<Float32Array> {
    const per = 3 * images.size * images.size;
    return this.runInSlices(images.batch, (start, count) => ({
      pixels: images.pixels.subarray(start * per, (start + count) * per),
      shape: [count, 3, images.size, images.size],
    }));
  }

  async close(): Promise<void> {
    await this.session.release();
  }

  private runInSlices(batch: number, slice: (start: number, count: number) => SliceFeeds): Promise<Float32Array> {
    const run = this.tail.then(() => this.runSlices(batch, slice));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async runSlices(batch: number, slice: (start: number, count: number) => SliceFeeds): Promise<Float32Array> {
    const step = this.fixedBatch ?? batch;
    const rows: Float32Array[] = [];
    for (let start = 0; start < batch; start += step) {
      const count = Math.min(step, batch - start);
      if (this.fixedBatch !== null && count !== this.fixedBatch)
        throw new Error(`model takes batches of exactly ${this.fixedBatch}`);
      const result = await this.session.run(this.feeds(slice(start, count)), [this.outputName]);
      const out = result[this.outputName];
      if (!out || out.type !== 'float32') throw new Error(`model output ${this.outputName} is not float32`);
      rows.push(out.data as Float32Array);
    }
    const dim = rows[0] ? rows[0].length / Math.min(step, batch) : (this.dim ?? 0);
    const all = new Float32Array(batch * dim);
    let offset = 0;
    for (const r of rows) {
      all.set(r, offset);
      offset += r.length;
    }
    return batch > 0 ? l2Normalize(all, dim) : all;
  }

  private feeds(slice: SliceFeeds): Record<string, Tensor> {
    const feeds: Record<string, Tensor> = {};
    for (const spec of this.inputs) {
      if (INPUT_NAMES.ids.includes(spec.name)) {
        const [ids, shape] = slice.ids ? [slice.ids, slice.shape] : this.placeholderIds();
        feeds[spec.name] = intTensor(spec.type, ids, shape);
      } else if (INPUT_NAMES.mask.includes(spec.name)) {
        const [mask, shape] = slice.mask ? [slice.mask, slice.shape] : this.placeholderMask();
        feeds[spec.name] = intTensor(spec.type, mask, shape);
      } else if (INPUT_NAMES.pixels.includes(spec.name)) {
        const s = this.placeholders.imageSize;
        feeds[spec.name] = slice.pixels
          ? new Tensor('float32', slice.pixels, slice.shape)
          : new Tensor('float32', new Float32Array(3 * s * s), [1, 3, s, s]);
      } else {
        throw new Error(`model input ${spec.name} is not one a CLIP tower takes`);
      }
    }
    return feeds;
  }

  // A combined model (onnx/model.onnx) needs both towers' inputs on every run,
  // each with its own batch axis; the other tower gets a one-item placeholder
  // whose outputs are ignored.
  private placeholderIds(): [Int32Array, number[]] {
    return [Int32Array.from(this.placeholders.ids), [1, this.placeholders.ids.length]];
  }

  private placeholderMask(): [Int32Array, number[]] {
    return [new Int32Array(this.placeholders.ids.length).fill(1), [1, this.placeholders.ids.length]];
  }
}

interface SliceFeeds {
  ids?: Int32Array;
  mask?: Int32Array;
  pixels?: Float32Array;
  shape: number[];
}

function intTensor(type: string, values: Int32Array, shape: number[]): Tensor {
  if (type === 'int32') return new Tensor('int32', values, shape);
  if (type === 'int64') return new Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), shape);
  throw new Error(`unsupported integer input type ${type}`);
}
