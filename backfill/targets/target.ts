// Where the items go. A target takes records in batches within its limits
// and says when it has them (the checkpoint records only that).
//
// Vector targets (local, cloudflare, worker) receive embedded records. A
// descriptor target (the queue) receives records without values, each with
// its image's URL: the pipeline then neither reads nor embeds, and the
// consumer on the other side fetches and embeds. The rest of the pipeline
// (batching, splitting, checkpoint) is the same for both.
import type { TargetRecord } from '../items.ts';

export interface MetadataIndexSpec {
  propertyName: string;
  indexType: 'string' | 'number' | 'boolean';
}

export interface TargetPlan {
  /** The embedder's dimensions. */
  dimensions: number;
  /** Create the index if it is missing (cosine metric). */
  createIndex: boolean;
  /** Metadata indexes that must exist before the first write. */
  metadataIndexes: MetadataIndexSpec[];
}

export interface TargetLimits {
  /** Records per write. */
  maxRecords: number;
  /** Bytes of encoded records per write. */
  maxBytes: number;
  /** Least time between two writes (an API's request rate limit). */
  minIntervalMs: number;
}

export interface Target {
  /** What this target is, e.g. "local index crossmodal at http://…", for messages and the checkpoint. */
  readonly description: string;
  readonly input: 'vectors' | 'descriptors';
  readonly limits: TargetLimits;
  /** Checks (and with --create-index makes) the index; throws FatalError when writing cannot work. */
  prepare(plan: TargetPlan): Promise<void>;
  /** One record as it travels (an NDJSON line, a JSON object); its length counts against maxBytes. */
  encode(record: TargetRecord): string;
  /**
   * Writes encoded records; resolves once the target has acknowledged them. Throws TransientError
   * (retried), RejectedError (the batch is split; a lone record fails) or FatalError.
   */
  write(encoded: readonly string[]): Promise<void>;
}
