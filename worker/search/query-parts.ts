// Combined and negative queries: several weighted parts (text, image, stored
// item) whose embeddings, each scaled to unit length, are summed with their
// weights and normalised into one query vector. The parts are put in a
// canonical form first, so equal combinations share one cache key: identical
// parts merged (their weights added), zero weights dropped, weights divided
// by the largest magnitude and rounded, parts sorted (the sum does not depend
// on their order).
import { ApiError } from '../errors.ts';
import { sha256Hex } from '../lib/hash.ts';

export type QueryPart =
  | { text: string; weight: number }
  | { image: Uint8Array; weight: number }
  | { imageSha256: string; weight: number }
  | { id: string; weight: number };

/** One part as keyed and embedded: text (canonical), image (by hash, with its bytes when the client sent them) or stored id. */
export interface CanonicalPart {
  kind: 'text' | 'image' | 'id';
  /** The text, the image's SHA-256 or the id. */
  ref: string;
  weight: number;
  bytes?: Uint8Array;
}

/** Weights are kept to 6 decimals after scaling, so 0.1/0.3 and 1/3 name the same combination. */
const roundWeight = (w: number) => Math.round(w * 1e6) / 1e6;

export const zeroQuery = (why: string) => new ApiError(400, 'zero_query', `${why}: nothing is left to search with`);

export async function canonicalParts(parts: QueryPart[]): Promise<CanonicalPart[]> {
  const merged = new Map<string, CanonicalPart>();
  for (const part of parts) {
    let next: CanonicalPart;
    if ('text' in part) next = { kind: 'text', ref: part.text, weight: part.weight };
    else if ('image' in part) next = { kind: 'image', ref: await sha256Hex(part.image), weight: part.weight, bytes: part.image };
    else if ('imageSha256' in part) next = { kind: 'image', ref: part.imageSha256, weight: part.weight };
    else next = { kind: 'id', ref: part.id, weight: part.weight };
    const key = `${next.kind}:${next.ref}`;
    const seen = merged.get(key);
    if (seen) {
      seen.weight += next.weight;
      if (!seen.bytes && next.bytes) seen.bytes = next.bytes;
    } else merged.set(key, next);
  }
  const weighted = [...merged.values()].filter((p) => p.weight !== 0);
  const largest = Math.max(0, ...weighted.map((p) => Math.abs(p.weight)));
  if (largest === 0) throw zeroQuery('the parts\' weights are all zero (or cancel out)');
  return weighted
    .map((p) => ({ ...p, weight: roundWeight(p.weight / largest) }))
    .filter((p) => p.weight !== 0)
    .sort((a, b) => (a.kind === b.kind ? (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0) : a.kind < b.kind ? -1 : 1));
}

/** The unit vector along Σ weight × unit(embedding); a 400 when it is (numerically) zero. */
export function combine(parts: { weight: number; vector: ArrayLike<number> }[]): Float32Array {
  const dim = parts[0]!.vector.length;
  if (parts.some((p) => p.vector.length !== dim))
    throw new ApiError(502, 'index_error', 'the parts\' embeddings have different dimensions (the embedder\'s model does not fit the index)');
  const sum = new Float64Array(dim);
  for (const { weight, vector } of parts) {
    const length = norm(vector);
    if (length === 0) throw zeroQuery('a part\'s embedding is the zero vector');
    for (let i = 0; i < dim; i++) sum[i]! += (weight * vector[i]!) / length;
  }
  const length = norm(sum);
  // Unit parts summed with weights of at most 1: below this the direction is rounding noise.
  if (!(length > 1e-6)) throw zeroQuery('the weighted parts cancel out (their sum is the zero vector)');
  return Float32Array.from(sum, (v) => v / length);
}

function norm(vector: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += vector[i]! * vector[i]!;
  return Math.sqrt(sum);
}

/** How a canonical part is shown in the response's `query`. */
export const echoPart = (p: CanonicalPart) =>
  p.kind === 'text' ? { text: p.ref, weight: p.weight } : p.kind === 'image' ? { image: `sha256:${p.ref}`, weight: p.weight } : { id: p.ref, weight: p.weight };
