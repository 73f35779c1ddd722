// Whether the index has applied a write (a mutation), for searches with
// `after=<mutationId>`. Vectorize applies mutations in order and reports the
// last one it applied (processedUpToMutation) and when that one was made
// (processedUpToDatetime). Mutation ids are UUIDs, so they do not order
// themselves: the worker records when each of its writes returned, in KV
// (`mut:<id>`) and in memory. A mutation is processed when it is the one
// reported, or when the one reported was made at or after the moment ours
// had returned. Once processed, always processed: that is remembered here.
import type { KVNamespace, VectorizeIndexInfo } from '@cloudflare/workers-types/index.ts';
import { LruMap } from '../../common/lru.ts';

/** The form of Vectorize's mutation ids (and the local index's): a UUID. */
export const MUTATION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** How long a write's record is kept: far longer than Vectorize takes to apply one. */
const RECORD_TTL_SECONDS = 7 * 86_400;
const MEMORY_ENTRIES = 10_000;

/** processedUpToDatetime in milliseconds: an ISO-8601 string from REST, a number (ms or s) per the binding's types. */
export function processedUpTo(info: Pick<VectorizeIndexInfo, 'processedUpToDatetime'>): number | undefined {
  const value = info.processedUpToDatetime as unknown;
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return value < 1e11 ? value * 1000 : value;
  return undefined;
}

export class MutationLog {
  /** When each write returned, for writes made by this isolate. */
  readonly #returnedAt = new LruMap<string, number>(MEMORY_ENTRIES);
  readonly #processed = new LruMap<string, true>(MEMORY_ENTRIES);

  constructor(private readonly kv: KVNamespace | undefined) {}

  /** Notes that the write `mutationId` has just returned. A failure only leaves `after` on that id pending longer. */
  async record(mutationId: string): Promise<void> {
    const now = Date.now();
    this.#returnedAt.set(mutationId, now);
    await this.kv?.put(`mut:${mutationId}`, String(now), { expirationTtl: RECORD_TTL_SECONDS }).catch((error: unknown) => {
      console.warn('mutation record not stored; searches after it stay uncached until it is the last one processed', error);
    });
  }

  /** Whether `info` (the index's describe()) shows `mutationId` applied; an id this worker did not write counts only once it is the last one applied. */
  async processed(mutationId: string, info: () => Promise<VectorizeIndexInfo>): Promise<boolean> {
    if (this.#processed.get(mutationId)) return true;
    const reported = await info();
    let done = String(reported.processedUpToMutation) === mutationId;
    if (!done) {
      const upTo = processedUpTo(reported);
      const returnedAt = upTo === undefined ? undefined : await this.#returnedAtOf(mutationId);
      done = upTo !== undefined && returnedAt !== undefined && upTo >= returnedAt;
    }
    if (done) this.#processed.set(mutationId, true);
    return done;
  }

  async #returnedAtOf(mutationId: string): Promise<number | undefined> {
    const known = this.#returnedAt.get(mutationId);
    if (known !== undefined || !this.kv) return known;
    const stored = Number(await this.kv.get(`mut:${mutationId}`).catch(() => null));
    return stored > 0 ? stored : undefined;
  }
}
