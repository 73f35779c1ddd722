// Protocol buffers at the wire level: a message as its list of raw fields, so
// that a model can be edited field by field while every byte of what is not
// edited (weights, fields this code has no schema for) is copied unchanged.
// The varints, tags and lengths are read and written by protobufjs.
import protobuf from 'protobufjs';
import { concatBytes } from '../../common/bytes.ts';

const { Reader, Writer } = protobuf;

const WireType = { varint: 0, fixed64: 1, lengthDelimited: 2, fixed32: 5 } as const;

/** An int64 as protobufjs decodes it: a Long (a number where long.js is missing). */
export type Int64 = number | protobuf.Long;

export const int64ToNumber = (value: Int64): number =>
  typeof value === 'number' ? value : protobuf.util.LongBits.from(value).toNumber(value.unsigned);

export interface WireField {
  readonly no: number;
  readonly wireType: number;
  /** The whole field, tag included. */
  readonly raw: Uint8Array;
  /** The payload of a length-delimited field (wire type 2). */
  readonly payload?: Uint8Array;
  /** The value of a varint field (wire type 0). */
  readonly value?: number;
}

/** Wraps protobufjs's errors (index out of range, invalid encodings) in one that says what the bytes are. */
function readingProtobuf<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw new Error(`truncated or malformed protobuf message: ${(error as Error).message}`, { cause: error });
  }
}

/** The values of a packed repeated varint field. */
export function readPackedVarints(payload: Uint8Array): number[] {
  const reader = Reader.create(payload);
  const values: number[] = [];
  readingProtobuf(() => {
    while (reader.pos < reader.len) values.push(int64ToNumber(reader.uint64()));
  });
  return values;
}

/** The fields of a message, in order; the payloads and raw bytes are views of `bytes`, not copies. */
export function readFields(bytes: Uint8Array): WireField[] {
  const reader = Reader.create(bytes);
  const fields: WireField[] = [];
  readingProtobuf(() => {
    while (reader.pos < reader.len) {
      const start = reader.pos;
      const tag = reader.tag();
      const no = tag >>> 3;
      const wireType = tag & 7;
      let payload: Uint8Array | undefined;
      let value: number | undefined;
      if (wireType === WireType.varint) value = int64ToNumber(reader.uint64());
      else if (wireType === WireType.fixed64) reader.skip(8);
      else if (wireType === WireType.fixed32) reader.skip(4);
      else if (wireType === WireType.lengthDelimited) payload = reader.bytes();
      else throw new Error(`unsupported protobuf wire type ${wireType}`);
      fields.push({ no, wireType, raw: reader.raw(start, reader.pos), ...(payload ? { payload } : {}), ...(value !== undefined ? { value } : {}) });
    }
  });
  return fields;
}

/** Tag and length of a length-delimited field (embedded message, bytes, string) whose payload is `length` bytes. */
export function fieldHeader(no: number, length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0) throw new Error(`bad protobuf field length ${length}`);
  return Writer.create()
    .uint32(((no << 3) | WireType.lengthDelimited) >>> 0)
    .uint64(length)
    .finish();
}

/** A length-delimited field with the given payload. */
export function lengthDelimited(no: number, payload: Uint8Array): Uint8Array {
  return concatBytes([fieldHeader(no, payload.length), payload]);
}
