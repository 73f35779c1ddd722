// Item thumbnails in R2 (the THUMBNAILS binding), one object per item id.
// Ids are unique across namespaces (Vectorize's rule), so a thumbnail is
// keyed by the id alone, and serves every index of a model migration alike.
import type { R2Bucket, ReadableStream } from '@cloudflare/workers-types/index.ts';
import type { Env } from '../config.ts';
import { ApiError } from '../errors.ts';
import type { Thumbnail } from './input.ts';

/** R2 deletes at most 1000 keys a call. */
const DELETE_CHUNK = 1000;
/** Puts in flight at once (a Worker has 6 connections open at a time). */
const PUT_CONCURRENCY = 6;

const keyOf = (id: string) => `item/${id}`;

/** The store of the THUMBNAILS binding; undefined without one (thumbnails are optional). */
export const thumbnailStoreOf = (env: Env): ThumbnailStore | undefined => (env.THUMBNAILS ? new ThumbnailStore(env.THUMBNAILS) : undefined);

/** No THUMBNAILS binding: writes of thumbnails are refused with this. */
export const noBinding = () =>
  new ApiError(500, 'misconfigured', 'this worker has no THUMBNAILS binding (an R2 bucket: wrangler.toml [[r2_buckets]]), so it cannot store thumbnails');

const unavailable = (what: string, error: unknown) => {
  console.error(`thumbnail store: ${what} failed`, error);
  return new ApiError(503, 'thumbnails_unavailable', `the thumbnail store failed while ${what}; send the request again`, { 'retry-after': '5' });
};

export interface StoredThumbnail {
  body: ReadableStream;
  contentType: string;
  httpEtag: string;
}

export class ThumbnailStore {
  constructor(private readonly bucket: R2Bucket) {}

  /** Stores each item's thumbnail under its id, replacing what was there; removes the thumbnails of `without`. */
  async replace(thumbnails: ReadonlyMap<string, Thumbnail>, without: readonly string[]): Promise<void> {
    const entries = [...thumbnails];
    try {
      for (let i = 0; i < entries.length; i += PUT_CONCURRENCY)
        await Promise.all(
          entries
            .slice(i, i + PUT_CONCURRENCY)
            .map(([id, { bytes, contentType }]) => this.bucket.put(keyOf(id), bytes, { httpMetadata: { contentType } })),
        );
    } catch (error) {
      throw unavailable(`storing ${entries.length} thumbnails`, error);
    }
    await this.remove(without);
  }

  async remove(ids: readonly string[]): Promise<void> {
    try {
      for (let i = 0; i < ids.length; i += DELETE_CHUNK) await this.bucket.delete(ids.slice(i, i + DELETE_CHUNK).map(keyOf));
    } catch (error) {
      throw unavailable(`removing ${ids.length} thumbnails`, error);
    }
  }

  /** The item's thumbnail with its type and R2's ETag, or undefined when it has none. */
  async get(id: string): Promise<StoredThumbnail | undefined> {
    let object;
    try {
      object = await this.bucket.get(keyOf(id));
    } catch (error) {
      throw unavailable('reading a thumbnail', error);
    }
    if (!object) return undefined;
    return { body: object.body, contentType: object.httpMetadata?.contentType ?? 'application/octet-stream', httpEtag: object.httpEtag };
  }
}
