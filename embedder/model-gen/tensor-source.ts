/**
 * Tensor contents that are produced on demand, chunk by chunk, so that a
 * model's weights never have to be held in memory all at once.
 */
import { DataType, type DataTypeId } from '../onnx/onnx-proto.ts';
import { Sfc32, fillNormalish } from './prng.ts';

/** Receives the next bytes of a tensor; must consume them before returning. */
export type ByteSink = (bytes: Uint8Array) => void;

export interface TensorSource {
  readonly dataType: DataTypeId;
  readonly dims: readonly number[];
  /** Size of the raw little-endian data in bytes. */
  readonly byteLength: number;
  /** Writes the raw data, in row-major order, to `sink`. */
  writeTo(sink: ByteSink): void;
}

/** Fills the next `out.length` values of a float tensor in row-major order. */
type FloatFill = (out: Float32Array) => void;

/** Elements per chunk when streaming float tensors (4 MiB buffers). */
const CHUNK_ELEMENTS = 1 << 20;

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((n, d) => n * d, 1);
}

function assertLittleEndian(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new Error('model-gen writes raw tensor data as-is and needs a little-endian host');
  }
}

/** How the values of a float parameter are initialised. */
export type FloatInit =
  | { readonly kind: 'normal'; readonly std: number }
  | { readonly kind: 'constant'; readonly value: number }
  /** Given values, row-major (weights taken from another model). */
  | { readonly kind: 'values'; readonly values: Float32Array };

/** A float tensor whose values come from `init`; random values use their own stream (`seed`, `stream`). */
export interface FloatParam {
  readonly dims: readonly number[];
  readonly init: FloatInit;
  /** Name of the random stream: the same (seed, stream) always gives the same values. */
  readonly stream: string;
}

function openFill(param: FloatParam, seed: number): FloatFill {
  const init = param.init;
  if (init.kind === 'constant') return (out) => out.fill(init.value);
  if (init.kind === 'values') {
    if (init.values.length !== elementCount(param.dims)) {
      throw new Error(`${param.stream}: ${init.values.length} values for shape [${param.dims.join(', ')}]`);
    }
    let offset = 0;
    return (out) => {
      out.set(init.values.subarray(offset, offset + out.length));
      offset += out.length;
    };
  }
  const rng = new Sfc32(seed, param.stream);
  return (out) => fillNormalish(rng, out, init.std);
}

class StreamedFloatTensor implements TensorSource {
  readonly dataType = DataType.FLOAT;
  readonly byteLength: number;

  constructor(
    readonly dims: readonly number[],
    private readonly produce: (sink: ByteSink) => void,
  ) {
    this.byteLength = elementCount(dims) * 4;
  }

  writeTo(sink: ByteSink): void {
    assertLittleEndian();
    this.produce(sink);
  }
}

function bytesOf(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** Streams `total` values of `fill` to `sink` through one reused buffer. */
function streamFill(fill: FloatFill, total: number, sink: ByteSink): void {
  const chunk = new Float32Array(Math.max(1, Math.min(CHUNK_ELEMENTS, total)));
  for (let done = 0; done < total; ) {
    const view = chunk.subarray(0, Math.min(chunk.length, total - done));
    fill(view);
    sink(bytesOf(view));
    done += view.length;
  }
}

/** One float parameter, generated from `seed` as it is written. */
export function floatParam(param: FloatParam, seed: number): TensorSource {
  return new StreamedFloatTensor(param.dims, (sink) =>
    streamFill(openFill(param, seed), elementCount(param.dims), sink),
  );
}

/**
 * Several 2-D parameters [rows, cols_i] concatenated along the last axis into
 * [rows, Σ cols_i]; each part holds exactly the values it would hold alone
 * (a packed QKV projection that equals separate Q, K and V ones).
 */
export function concatColumns(parts: readonly FloatParam[], seed: number): TensorSource {
  const first = parts[0];
  if (!first || parts.some((p) => p.dims.length !== 2 || p.dims[0] !== first.dims[0])) {
    throw new Error('concatColumns needs 2-D parts with the same number of rows');
  }
  const rows = first.dims[0] ?? 0;
  const widths = parts.map((p) => p.dims[1] ?? 0);
  const rowWidth = widths.reduce((a, b) => a + b, 0);
  return new StreamedFloatTensor([rows, rowWidth], (sink) => {
    const fills = parts.map((p) => openFill(p, seed));
    const rowsPerChunk = Math.max(1, Math.min(rows, Math.floor(CHUNK_ELEMENTS / rowWidth)));
    const buffer = new Float32Array(rowsPerChunk * rowWidth);
    for (let row = 0; row < rows; ) {
      const n = Math.min(rowsPerChunk, rows - row);
      let offset = 0;
      for (let r = 0; r < n; r++) {
        fills.forEach((fill, i) => {
          const width = widths[i] ?? 0;
          fill(buffer.subarray(offset, offset + width));
          offset += width;
        });
      }
      sink(bytesOf(buffer.subarray(0, offset)));
      row += n;
    }
  });
}

/** Several 1-D parameters concatenated (a packed QKV bias). */
export function concatVectors(parts: readonly FloatParam[], seed: number): TensorSource {
  const total = parts.reduce((n, p) => n + elementCount(p.dims), 0);
  return new StreamedFloatTensor([total], (sink) => {
    for (const part of parts) streamFill(openFill(part, seed), elementCount(part.dims), sink);
  });
}

/** A small tensor held in memory (shape constants, scalars). */
export function constantTensor(
  dataType: typeof DataType.INT64 | typeof DataType.FLOAT,
  dims: readonly number[],
  values: readonly number[],
): TensorSource {
  if (elementCount(dims) !== values.length) throw new Error(`constant of shape [${dims}] needs ${elementCount(dims)} values`);
  let bytes: Uint8Array;
  if (dataType === DataType.INT64) {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    bytes = new Uint8Array(data.buffer);
  } else {
    bytes = new Uint8Array(Float32Array.from(values).buffer);
  }
  return {
    dataType,
    dims,
    byteLength: bytes.byteLength,
    writeTo(sink) {
      assertLittleEndian();
      sink(bytes);
    },
  };
}
