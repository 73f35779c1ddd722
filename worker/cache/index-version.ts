// The index version and the promotion record, both in KV and both part of
// every result cache key:
//
// - `meta:index-version` changes with every write, so results cached before
//   a write stop being found once an isolate sees the new version
//   (immediately in the writing isolate; elsewhere within
//   INDEX_VERSION_TTL_MS plus KV propagation).
// - `meta:active-index` names the index searches use during a model
//   migration (POST /v1/admin/index:promote writes it). A search's key holds
//   the name of the index it was computed on (`scoped`), so a promotion
//   moves every key, and a result is never found under another index.
//
// They are two keys, not one record, so that a write's bump cannot put back
// a promotion record it read before the promotion. See worker/README.md.
import type { KVNamespace } from '@cloudflare/workers-types/index.ts';
import { SingleFlight } from '../lib/single-flight.ts';

const VERSION_KEY = 'meta:index-version';
export const ACTIVE_INDEX_KEY = 'meta:active-index';

/** What POST /v1/admin/index:promote stores: the index searches use from then on. */
export interface PromotionRecord {
  /** The promoted index (INDEX_NEXT_NAME when it was promoted). */
  index: string;
  /** The model its embedders served. */
  model: string;
  /** The index searches used before. */
  previous: string;
  /** ISO 8601. */
  promotedAt: string;
}

export interface IndexState {
  version: string;
  promotion: PromotionRecord | null;
}

interface Shared {
  state: IndexState | undefined;
  readAt: number;
  reading: SingleFlight<IndexState>;
}

const isPromotion = (value: unknown): value is PromotionRecord => {
  const r = value as Partial<PromotionRecord> | null;
  return typeof r?.index === 'string' && typeof r.model === 'string' && typeof r.previous === 'string' && typeof r.promotedAt === 'string';
};

const freshVersion = () => `${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;

export class IndexVersion {
  #shared: Shared = { state: undefined, readAt: 0, reading: new SingleFlight<IndexState>(1000) };
  /** The index name a scoped view puts before the version. */
  #scope: string | undefined;

  constructor(
    private readonly kv: KVNamespace | undefined,
    private readonly ttlMs: number,
  ) {}

  /** The same state, whose `current()` is `<index>:<version>`: the version a search on that index is cached under. */
  scoped(index: string): IndexVersion {
    const view = new IndexVersion(this.kv, this.ttlMs);
    view.#shared = this.#shared;
    view.#scope = index;
    return view;
  }

  async current(): Promise<string> {
    const { version } = await this.state();
    return this.#scope === undefined ? version : `${this.#scope}:${version}`;
  }

  /** Both keys, read together and trusted for INDEX_VERSION_TTL_MS. */
  async state(): Promise<IndexState> {
    const shared = this.#shared;
    if (shared.state !== undefined && (!this.kv || Date.now() - shared.readAt < this.ttlMs)) return shared.state;
    return shared.reading.run('state', () => this.#read());
  }

  /** A new version: any fresh value will do, so concurrent bumps cannot collide. */
  async bump(): Promise<string> {
    // Read first: remembering a version must not mean trusting a promotion record never read.
    const read = await this.state();
    const version = freshVersion();
    if (this.kv) await this.kv.put(VERSION_KEY, version);
    this.#remember({ version, promotion: (this.#shared.state ?? read).promotion });
    return version;
  }

  /** Stores the promotion record, then a new version; this isolate uses both at once, others within the TTL. */
  async promote(record: PromotionRecord): Promise<IndexState> {
    if (!this.kv) throw new Error('promotion needs SEARCH_KV');
    await this.kv.put(ACTIVE_INDEX_KEY, JSON.stringify(record));
    const version = freshVersion();
    await this.kv.put(VERSION_KEY, version);
    const state = { version, promotion: record };
    this.#remember(state);
    return state;
  }

  #remember(state: IndexState): void {
    this.#shared.state = state;
    this.#shared.readAt = Date.now();
  }

  async #read(): Promise<IndexState> {
    try {
      const [version, promotion] = await Promise.all([this.kv?.get(VERSION_KEY), this.kv?.get(ACTIVE_INDEX_KEY, 'json')]);
      const state = { version: version ?? '0', promotion: isPromotion(promotion) ? promotion : null };
      this.#remember(state);
      return state;
    } catch {
      // KV unreachable: keep what we had rather than fail the search.
      return this.#shared.state ?? { version: '0', promotion: null };
    }
  }
}
