// One block of a version 2 snapshot (snapshot.ts): rows and their records.
//   [u32 LE count][count × dimensions float32 LE][count records]
// and each record
//   [f64 LE label][u16 LE id bytes][id UTF-8]
//   [u16 LE namespace bytes + 1, 0 for none][namespace UTF-8]
//   [u32 LE metadata bytes, 0 for none][metadata JSON]
//   [u32 LE indexed bytes, 0 for none][indexed values as JSON [[property, value], …]]
// Metadata stays JSON (any JSON object, at most 10 KiB), one record at a
// time: no string ever holds more than one record.
import type { NewRecord } from '../engine/vector-store.ts';
import type { IndexedValue, Metadata } from '../types.ts';

/** The block's parts, ready for framing: its header, the rows as they are in `values`, the records. */
export function encodeBlock(records: readonly NewRecord[], values: Float32Array): Uint8Array[] {
  const texts = records.map((r) => ({
    id: r.id,
    namespace: r.namespace,
    metadata: r.metadata === undefined ? '' : JSON.stringify(r.metadata),
    indexed: r.indexed === undefined ? '' : JSON.stringify([...r.indexed]),
  }));
  let size = 0;
  for (const t of texts)
    size +=
      8 + 2 + Buffer.byteLength(t.id) + 2 + (t.namespace === undefined ? 0 : Buffer.byteLength(t.namespace)) + 4 + Buffer.byteLength(t.metadata) + 4 + Buffer.byteLength(t.indexed);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  const text = (s: string, lengthBytes: 2 | 4, bias = 0) => {
    const length = out.write(s, at + lengthBytes, 'utf8');
    if (lengthBytes === 2) out.writeUInt16LE(length + bias, at);
    else out.writeUInt32LE(length, at);
    at += lengthBytes + length;
  };
  records.forEach((r, i) => {
    const t = texts[i]!;
    out.writeDoubleLE(r.label, at);
    at += 8;
    text(t.id, 2);
    if (t.namespace === undefined) {
      out.writeUInt16LE(0, at);
      at += 2;
    } else text(t.namespace, 2, 1);
    text(t.metadata, 4);
    text(t.indexed, 4);
  });
  const count = Buffer.allocUnsafe(4);
  count.writeUInt32LE(records.length, 0);
  return [count, new Uint8Array(values.buffer, values.byteOffset, values.byteLength), out];
}

export function decodeBlock(payload: Buffer, dimensions: number): { records: NewRecord[]; values: Float32Array } {
  try {
    const count = payload.readUInt32LE(0);
    const valueBytes = count * dimensions * 4;
    if (4 + valueBytes > payload.length) throw new RangeError(`${count} rows do not fit in ${payload.length} bytes`);
    const values =
      (payload.byteOffset + 4) % 4 === 0
        ? new Float32Array(payload.buffer, payload.byteOffset + 4, count * dimensions)
        : new Float32Array(new Uint8Array(payload.subarray(4, 4 + valueBytes)).buffer);
    let at = 4 + valueBytes;
    /** A length-prefixed string; `bias` is added to its length when it is written (see the namespace). */
    const text = (lengthBytes: 2 | 4, bias = 0): string => {
      const length = (lengthBytes === 2 ? payload.readUInt16LE(at) : payload.readUInt32LE(at)) - bias;
      at += lengthBytes;
      if (at + length > payload.length) throw new RangeError(`a field runs past the block's end`);
      const s = payload.toString('utf8', at, at + length);
      at += length;
      return s;
    };
    const records: NewRecord[] = [];
    for (let i = 0; i < count; i++) {
      const label = payload.readDoubleLE(at);
      at += 8;
      const id = text(2);
      let namespace: string | undefined;
      if (payload.readUInt16LE(at) === 0) at += 2;
      else namespace = text(2, 1);
      const metadata = text(4);
      const indexed = text(4);
      records.push({
        id,
        label,
        namespace,
        metadata: metadata === '' ? undefined : (JSON.parse(metadata) as Metadata),
        indexed: indexed === '' ? undefined : new Map(JSON.parse(indexed) as [string, IndexedValue][]),
      });
    }
    if (at !== payload.length) throw new RangeError(`${payload.length - at} bytes after the last record`);
    return { records, values };
  } catch (error) {
    throw new Error(`malformed snapshot block: ${(error as Error).message}`, { cause: error });
  }
}
