// The index version: part of every result cache key, changed by every write,
// so results cached before a write stop being found once an isolate sees the
// new version (immediately in the writing isolate; elsewhere within
// INDEX_VERSION_TTL_MS plus KV propagation). See worker/README.md.
import type { KVNamespace } from '@cloudflare/workers-types/index.ts';
import { SingleFlight } from '../lib/single-flight.ts';

const KEY = 'meta:index-version';

export class IndexVersion {
  #value: string | undefined;
  #readAt = 0;
  readonly #reading = new SingleFlight<string>(1000);

  constructor(
    private readonly kv: KVNamespace | undefined,
    private readonly ttlMs: number,
  ) {}

  async current(): Promise<string> {
    if (this.#value !== undefined && (!this.kv || Date.now() - this.#readAt < this.ttlMs)) return this.#value;
    return this.#reading.run('version', () => this.#read());
  }

  /** A new version: any fresh value will do, so concurrent bumps cannot collide. */
  async bump(): Promise<string> {
    const value = `${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
    if (this.kv) await this.kv.put(KEY, value);
    this.#value = value;
    this.#readAt = Date.now();
    return value;
  }

  async #read(): Promise<string> {
    try {
      const value = (await this.kv?.get(KEY)) ?? '0';
      this.#value = value;
      this.#readAt = Date.now();
      return value;
    } catch {
      // KV unreachable: keep what we had rather than fail the search.
      return this.#value ?? '0';
    }
  }
}
