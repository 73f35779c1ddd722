// Byte arrays, for every runtime (Workers, Node): joining chunks, and reading
// a body no further than a size cap.

/** `parts` joined into a new array of exactly their total length, alone in its buffer (so a typed view of it is aligned, and it can be transferred to another thread). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * What `write` hands its sink, in order, copied into one array of `byteLength`
 * bytes. The writer may reuse its buffers between calls; writing more or fewer
 * bytes than announced is an error.
 */
export function collectBytes(byteLength: number, write: (sink: (bytes: Uint8Array) => void) => void): Uint8Array {
  const out = new Uint8Array(byteLength);
  let offset = 0;
  write((bytes) => {
    if (offset + bytes.length > byteLength) throw new RangeError(`wrote more than the ${byteLength} bytes announced`);
    out.set(bytes, offset);
    offset += bytes.length;
  });
  if (offset !== byteLength) throw new RangeError(`wrote ${offset} of the ${byteLength} bytes announced`);
  return out;
}

/**
 * A body's bytes, or null as soon as it holds more than `maxBytes`. Leaving
 * the loop early cancels a web ReadableStream and destroys a Node stream, so
 * the rest is not downloaded. (A length declared in advance is for the
 * caller to check: it knows how to drop a body it has not started reading.)
 */
export async function readAtMost(body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<Uint8Array | null> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > maxBytes) return null;
    chunks.push(chunk);
  }
  return concatBytes(chunks);
}
