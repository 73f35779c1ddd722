// Multilingual CLIP: an XLM-RoBERTa text tower beside a CLIP vision tower, in the OpenCLIP/Immich layout.
// Immich's M-CLIP exports (XLM-Roberta-Large-Vit-B-16Plus, -Vit-B-32, -Vit-L-14) feed `input_ids` and
// `attention_mask` (int32, 1 × 77), take the mean of the token states under the mask, project it
// (M-CLIP's LinearTransformation) and normalise, all inside textual/model.onnx; open_clip's own
// xlm-roberta-*-ViT-* models feed the ids alone and mean-pool over the non-pad tokens. Either way:
// - text: XLM-R's SentencePiece tokenizer.json, `<s> … </s>`, padded with `<pad>` (1) to the
//   context (open_clip's text_cfg.context_length, 77), whitespace collapsed as Immich's clean_text;
// - mean pooling weighs only unmasked positions, so a graph with a dynamic sequence axis may take a
//   batch padded to its longest text; there is no pooled row for the rewrite to gather;
// - image and scoring: CLIP's (class token, softmax at CLIP's temperature).
import { CLIP_OUTPUT_NAMES } from '../../runtime/tower.ts';
import { loadTextTokenizer } from '../../text/load-text-tokenizer.ts';
import { clipFamily } from './clip.ts';
import type { FamilyModule } from './family-module.ts';

export const multilingualClipFamily: FamilyModule = {
  id: 'multilingual-clip',
  tokenizer: (files, config) => loadTextTokenizer(files.tokenizer, { modelConfig: config }),
  padTo: (dynamicLength) => (dynamicLength ? 'longest' : 'context'),
  outputs: CLIP_OUTPUT_NAMES,
  pooledRows: {
    text: { keep: 'the text is mean-pooled over every unmasked position' },
    vision: clipFamily.pooledRows.vision,
  },
  scoring: clipFamily.scoring,
};
