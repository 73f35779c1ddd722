// Domain types shared by the engine, storage and HTTP layers.

export type DistanceMetric = 'cosine' | 'euclidean' | 'dot-product';
export type MetadataIndexType = 'string' | 'number' | 'boolean';
export type ReturnMetadata = 'none' | 'indexed' | 'all';

/** A JSON object as stored on a vector. */
export type Metadata = { [key: string]: unknown };

/** A property value as a metadata index sees it (strings already cut to 64 bytes). */
export type IndexedValue = string | number | boolean;

export interface IndexConfig {
  name: string;
  description?: string;
  dimensions: number;
  metric: DistanceMetric;
  /** Set when the index was created from a preset. */
  preset?: string;
  createdOn: string;
  modifiedOn: string;
}

export interface VectorHeader {
  id: string;
  namespace?: string;
  metadata?: Metadata;
}

export interface MetadataIndexSpec {
  propertyName: string;
  indexType: MetadataIndexType;
}

interface MutationBase {
  mutationId: string;
  /** Milliseconds since the epoch when the mutation was accepted. */
  timestamp: number;
}

/** A write as it goes into the log: applied in log order, exactly once. */
export type Mutation =
  | (MutationBase & {
      kind: 'insert' | 'upsert';
      vectors: VectorHeader[];
      /** Row-major, `vectors.length × dimensions`. */
      values: Float32Array;
    })
  | (MutationBase & { kind: 'delete'; ids: string[] })
  | (MutationBase & { kind: 'createMetadataIndex' } & MetadataIndexSpec)
  | (MutationBase & { kind: 'deleteMetadataIndex'; propertyName: string });

export interface QueryRequest {
  vector: Float32Array;
  topK: number;
  returnValues: boolean;
  returnMetadata: ReturnMetadata;
  namespace?: string;
  filter?: CompiledFilter;
}

export interface Match {
  id: string;
  score: number;
  values?: number[];
  metadata?: Metadata;
  namespace?: string;
}

export interface StoredVector {
  id: string;
  values: number[];
  metadata?: Metadata;
  namespace?: string;
}

export type RangeBound = { value: string | number; inclusive: boolean };

/** One key of a validated filter; clauses combine with AND. */
export type Clause =
  | { key: string; op: 'eq' | 'ne'; value: IndexedValue | null }
  | { key: string; op: 'in' | 'nin'; values: (IndexedValue | null)[] }
  | { key: string; op: 'range'; lower?: RangeBound; upper?: RangeBound };

export type CompiledFilter = Clause[];
