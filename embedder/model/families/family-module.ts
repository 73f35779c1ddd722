// What a model family tells the loader (model/clip.ts): its tokenizer, how its towers are fed and
// read, which pooling the pooled-row rewrite may move, and how it scores. One module per family
// (families/*.ts); layout and runtime stay the loader's.
import type { PooledRowKind } from '../../runtime/pooled-rows.ts';
import type { Modality } from '../../runtime/tower.ts';
import type { TextTokenizer } from '../../text/text-tokenizer.ts';
import type { FamilyId } from '../family.ts';
import type { ModelFiles } from '../layout.ts';
import type { Scoring } from '../scoring.ts';

export type ModelConfig = Record<string, unknown>;

/** Whether the pooled-row rewrite may run on a tower, and for which pooling; or why the tower is left as exported. */
export type PooledRowRule = { readonly gather: readonly PooledRowKind[] } | { readonly keep: string };

export interface FamilyModule {
  readonly id: FamilyId;
  /** The text tower's tokenizer, from the model's files. */
  tokenizer(files: ModelFiles, config: ModelConfig): TextTokenizer;
  /** What a batch of texts is padded to, given whether the text graph's sequence axis is dynamic. */
  padTo(dynamicLength: boolean): 'context' | 'longest';
  /** The graph outputs that hold each tower's embedding, in order of preference. */
  readonly outputs: Readonly<Record<Modality, readonly string[]>>;
  readonly pooledRows: Readonly<Record<Modality, PooledRowRule>>;
  /** How cosine similarities become probabilities, from the model's files. */
  scoring(config: ModelConfig, files: ModelFiles): Scoring;
}
