// Dense float32 storage: live vectors occupy rows 0..count-1 of one matrix,
// so exact scans hand the native scorer a single contiguous array. Removal
// moves the last row into the hole; records carry their current row.
import type { IndexedValue, Metadata } from '../types.ts';

export interface VectorRecord {
  readonly id: string;
  /** Stable key in the HNSW graph and the metadata/namespace postings. */
  readonly label: number;
  row: number;
  readonly namespace: string | undefined;
  readonly metadata: Metadata | undefined;
  /** Indexed property values captured when the vector was written. */
  indexed: Map<string, IndexedValue> | undefined;
}

export type NewRecord = Omit<VectorRecord, 'row'>;

export class VectorStore {
  private data: Float32Array;
  private norms: Float64Array;
  private readonly rows: VectorRecord[] = [];
  readonly byId = new Map<string, VectorRecord>();
  readonly byLabel = new Map<number, VectorRecord>();

  constructor(
    readonly dim: number,
    capacity = 1024,
  ) {
    this.data = new Float32Array(capacity * dim);
    this.norms = new Float64Array(capacity);
  }

  get count(): number {
    return this.rows.length;
  }

  /** The live rows, row-major (a view, valid until the next write). */
  matrix(): Float32Array {
    return this.data.subarray(0, this.rows.length * this.dim);
  }

  values(row: number): Float32Array {
    return this.data.subarray(row * this.dim, (row + 1) * this.dim);
  }

  record(row: number): VectorRecord {
    return this.rows[row]!;
  }

  records(): readonly VectorRecord[] {
    return this.rows;
  }

  /** Squared L2 norm of a row (kept for euclidean ranking). */
  squaredNorm(row: number): number {
    return this.norms[row]!;
  }

  add(record: NewRecord, values: Float32Array): VectorRecord {
    const row = this.rows.length;
    this.reserve(row + 1);
    const stored: VectorRecord = { ...record, row };
    this.rows.push(stored);
    this.byId.set(stored.id, stored);
    this.byLabel.set(stored.label, stored);
    this.write(row, values);
    return stored;
  }

  /** Swaps `next` in for the record with the same id, in place. */
  replace(previous: VectorRecord, next: NewRecord, values: Float32Array): VectorRecord {
    const stored: VectorRecord = { ...next, row: previous.row };
    this.rows[previous.row] = stored;
    this.byId.set(stored.id, stored);
    this.byLabel.delete(previous.label);
    this.byLabel.set(stored.label, stored);
    this.write(stored.row, values);
    return stored;
  }

  remove(record: VectorRecord): void {
    const last = this.rows.length - 1;
    const row = record.row;
    if (row !== last) {
      const moved = this.rows[last]!;
      this.data.copyWithin(row * this.dim, last * this.dim, (last + 1) * this.dim);
      this.norms[row] = this.norms[last]!;
      moved.row = row;
      this.rows[row] = moved;
    }
    this.rows.pop();
    this.byId.delete(record.id);
    this.byLabel.delete(record.label);
  }

  private write(row: number, values: Float32Array): void {
    this.data.set(values, row * this.dim);
    let sum = 0;
    for (let i = 0; i < values.length; i++) sum += values[i]! * values[i]!;
    this.norms[row] = sum;
  }

  private reserve(rows: number): void {
    const capacity = this.norms.length;
    if (rows <= capacity) return;
    const next = Math.max(rows, capacity * 2);
    const data = new Float32Array(next * this.dim);
    data.set(this.data.subarray(0, this.rows.length * this.dim));
    const norms = new Float64Array(next);
    norms.set(this.norms.subarray(0, this.rows.length));
    this.data = data;
    this.norms = norms;
  }
}
