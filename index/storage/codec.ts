// Binary encoding of a mutation for the log: a JSON header and, for writes,
// the raw float32 values (no decimal round trip, 4 bytes a component).
//   [u8 version][u32 LE header length][header JSON][float32 LE values]
import type { Mutation } from '../types.ts';

const VERSION = 1;

export function encodeMutation(m: Mutation): Uint8Array[] {
  const { values, ...header } = m.kind === 'insert' || m.kind === 'upsert' ? m : { ...m, values: undefined };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.allocUnsafe(5);
  prefix.writeUInt8(VERSION, 0);
  prefix.writeUInt32LE(json.length, 1);
  const parts: Uint8Array[] = [prefix, json];
  if (values) parts.push(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  return parts;
}

export function decodeMutation(payload: Buffer): Mutation {
  const version = payload.readUInt8(0);
  if (version !== VERSION) throw new Error(`unknown mutation encoding version ${version}`);
  const length = payload.readUInt32LE(1);
  const header = JSON.parse(payload.subarray(5, 5 + length).toString('utf8')) as Mutation;
  if (header.kind === 'insert' || header.kind === 'upsert') {
    const bytes = payload.subarray(5 + length);
    // Copy: the payload's offset need not be 4-byte aligned.
    const values = new Float32Array(bytes.length / 4);
    new Uint8Array(values.buffer).set(bytes);
    return { ...header, values };
  }
  return header;
}
