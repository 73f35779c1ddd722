// Protocol buffers at the wire level: a message as its list of raw fields, so
// that a model can be edited field by field while every byte of what is not
// edited (weights, fields this code has no schema for) is copied unchanged.

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

function readVarint(bytes: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  let scale = 1;
  for (let pos = at; pos < bytes.length; pos++) {
    const byte = bytes[pos]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, pos + 1];
    scale *= 128;
  }
  throw new Error('truncated varint');
}

/** The values of a packed repeated varint field. */
export function readPackedVarints(payload: Uint8Array): number[] {
  const values: number[] = [];
  for (let pos = 0; pos < payload.length; ) {
    const [value, next] = readVarint(payload, pos);
    values.push(value);
    pos = next;
  }
  return values;
}

export function readFields(bytes: Uint8Array): WireField[] {
  const fields: WireField[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const start = pos;
    const [key, afterKey] = readVarint(bytes, pos);
    const no = Math.floor(key / 8);
    const wireType = key % 8;
    pos = afterKey;
    let payload: Uint8Array | undefined;
    let value: number | undefined;
    if (wireType === 0) [value, pos] = readVarint(bytes, pos);
    else if (wireType === 1) pos += 8;
    else if (wireType === 5) pos += 4;
    else if (wireType === 2) {
      const [length, afterLength] = readVarint(bytes, pos);
      payload = bytes.subarray(afterLength, afterLength + length);
      pos = afterLength + length;
    } else throw new Error(`unsupported protobuf wire type ${wireType}`);
    if (pos > bytes.length) throw new Error('truncated protobuf field');
    fields.push({ no, wireType, raw: bytes.subarray(start, pos), ...(payload ? { payload } : {}), ...(value !== undefined ? { value } : {}) });
  }
  return fields;
}

function varint(value: number): number[] {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`bad varint ${value}`);
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return out;
}

/** Tag and length of a length-delimited field (embedded message, bytes, string) whose payload is `length` bytes. */
export function fieldHeader(no: number, length: number): Uint8Array {
  return Uint8Array.from([...varint(no * 8 + 2), ...varint(length)]);
}

/** A length-delimited field with the given payload. */
export function lengthDelimited(no: number, payload: Uint8Array): Uint8Array {
  return concatBytes([fieldHeader(no, payload.length), payload]);
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
