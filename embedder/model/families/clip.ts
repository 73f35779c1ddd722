// CLIP (OpenAI, OpenCLIP): byte-level BPE with openai's cleaning, a causal text tower pooled at the
// end-of-text token, the image pooled at the class token, projected embeddings, softmax scoring.
import { CLIP_OUTPUT_NAMES } from '../../runtime/tower.ts';
import { loadClipTokenizer } from '../../text/index.ts';
import type { FamilyModule, ModelConfig } from './family-module.ts';

// OpenAI's CLIP models end training with the logit scale at its clamp,
// exp(4.6052) = 100; split ONNX graphs do not carry it, so configs that
// state a learned value override this.
const CLIP_LOGIT_SCALE = 100;

function configuredLogitScale(config: ModelConfig): number {
  return typeof config.logit_scale === 'number' ? Math.exp(config.logit_scale) : CLIP_LOGIT_SCALE;
}

export const clipFamily: FamilyModule = {
  id: 'clip',
  tokenizer: (files, config) => loadClipTokenizer(files.tokenizer, { modelConfig: config }),
  // Causal mask + end-token pooling make padding past the end token inert, so a
  // dynamic sequence axis lets a batch be padded to its longest text, not to 77.
  padTo: (dynamicLength) => (dynamicLength ? 'longest' : 'context'),
  outputs: CLIP_OUTPUT_NAMES,
  pooledRows: { text: { gather: ['end-of-text', 'row'] }, vision: { gather: ['row', 'end-of-text'] } },
  scoring: (config) => ({ kind: 'softmax', scale: configuredLogitScale(config) }),
};
