// Which files model:fetch takes from an OpenCLIP/Immich repository: the towers with every weight file
// their graphs point to (Immich's M-CLIP text towers keep theirs as one file per tensor), not other
// runtimes' models.
import { describe, expect, it } from 'vitest';
import type { HubFile } from '../../embedder/model-fetch/hub.ts';
import { selectFiles } from '../../embedder/model-fetch/select-files.ts';

const listing = (paths: string[]): HubFile[] => paths.map((path) => ({ path, size: 1, sha256: null, gitOid: 'x' }));

describe('selectFiles on the OpenCLIP/Immich layout', () => {
  // As immich-app/XLM-Roberta-Large-Vit-B-16Plus is laid out (its textual/model.onnx is over 2 GB).
  const mclip = [
    '.gitattributes', 'README.md', 'config.json',
    'textual/model.onnx', 'textual/tokenizer.json', 'textual/tokenizer_config.json', 'textual/special_tokens_map.json',
    'textual/sentencepiece.bpe.model', 'textual/LinearTransformation.weight', 'textual/onnx__MatMul_2531',
    'textual/transformer.embeddings.word_embeddings.weight', 'textual/c1f385d0-4888-11ef-a23b-00155d655292',
    'textual/model.armnn', 'textual/fp16/model.armnn', 'textual/rknpu/rk3588/model.rknn',
    'visual/model.onnx', 'visual/preprocess_cfg.json', 'visual/model.armnn',
  ];

  it('takes each tower with every weight file beside its graph, and nothing for other runtimes', () => {
    const { layout, files } = selectFiles(listing(mclip), 'fp32');
    expect(layout).toBe('immich');
    expect(files.map((f) => f.path).sort()).toEqual(
      [
        'config.json',
        'textual/LinearTransformation.weight', 'textual/c1f385d0-4888-11ef-a23b-00155d655292', 'textual/model.onnx',
        'textual/onnx__MatMul_2531', 'textual/sentencepiece.bpe.model', 'textual/special_tokens_map.json',
        'textual/tokenizer.json', 'textual/tokenizer_config.json', 'textual/transformer.embeddings.word_embeddings.weight',
        'visual/model.onnx', 'visual/preprocess_cfg.json',
      ].sort(),
    );
  });

  it('still takes a model.onnx_data companion and refuses other variants', () => {
    const paths = ['config.json', 'textual/model.onnx', 'textual/tokenizer.json', 'visual/model.onnx', 'visual/model.onnx_data', 'visual/preprocess_cfg.json'];
    expect(selectFiles(listing(paths), 'fp32').files.map((f) => f.path)).toContain('visual/model.onnx_data');
    expect(() => selectFiles(listing(paths), 'fp16')).toThrow(/one variant/);
  });
});
