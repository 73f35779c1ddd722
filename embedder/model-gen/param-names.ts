/**
 * Initializer names per layout, from the generator's logical weight names
 * (see params.ts): Hugging Face `CLIPModel` state-dict names, and OpenCLIP
 * `CLIP` state-dict names (packed `in_proj` QKV). Matrices are stored
 * transposed to [in, out] under these names.
 */
import type { ParamNamer } from './params.ts';

type Rule = readonly [RegExp, string];

function namer(rules: readonly Rule[]): ParamNamer {
  return (logical) => {
    for (const [pattern, replacement] of rules) {
      if (pattern.test(logical)) return logical.replace(pattern, replacement);
    }
    throw new Error(`no initializer name for weight ${logical}`);
  };
}

const hfBlock = (tower: string, model: string): Rule[] => [
  [new RegExp(`^${tower}\\.blocks\\.(\\d+)\\.ln_1\\.`), `${model}.encoder.layers.$1.layer_norm1.`],
  [new RegExp(`^${tower}\\.blocks\\.(\\d+)\\.ln_2\\.`), `${model}.encoder.layers.$1.layer_norm2.`],
  [new RegExp(`^${tower}\\.blocks\\.(\\d+)\\.attn\\.(q|k|v|out)\\.`), `${model}.encoder.layers.$1.self_attn.$2_proj.`],
  [new RegExp(`^${tower}\\.blocks\\.(\\d+)\\.mlp\\.fc\\.`), `${model}.encoder.layers.$1.mlp.fc1.`],
  [new RegExp(`^${tower}\\.blocks\\.(\\d+)\\.mlp\\.proj\\.`), `${model}.encoder.layers.$1.mlp.fc2.`],
];

export const hfParamName: ParamNamer = namer([
  [/^text\.token_embedding$/, 'text_model.embeddings.token_embedding.weight'],
  [/^text\.positional_embedding$/, 'text_model.embeddings.position_embedding.weight'],
  ...hfBlock('text', 'text_model'),
  [/^text\.ln_final\./, 'text_model.final_layer_norm.'],
  [/^text\.projection$/, 'text_projection.weight'],
  [/^vision\.patch_embedding$/, 'vision_model.embeddings.patch_embedding.weight'],
  [/^vision\.class_embedding$/, 'vision_model.embeddings.class_embedding'],
  [/^vision\.positional_embedding$/, 'vision_model.embeddings.position_embedding.weight'],
  [/^vision\.ln_pre\./, 'vision_model.pre_layrnorm.'], // sic: the HF attribute is spelled "pre_layrnorm"
  ...hfBlock('vision', 'vision_model'),
  [/^vision\.ln_post\./, 'vision_model.post_layernorm.'],
  [/^vision\.projection$/, 'visual_projection.weight'],
]);

const openClipBlock = (tower: string, prefix: string): Rule[] => [
  [new RegExp(`^${tower}\\.blocks\\.(\\d+)\\.(ln_1|ln_2)\\.`), `${prefix}transformer.resblocks.$1.$2.`],
  [new RegExp(`^${tower}\\.blocks\\.(\\d+)\\.attn\\.in_proj\\.(weight|bias)$`), `${prefix}transformer.resblocks.$1.attn.in_proj_$2`],
  [new RegExp(`^${tower}\\.blocks\\.(\\d+)\\.attn\\.out\\.`), `${prefix}transformer.resblocks.$1.attn.out_proj.`],
  [new RegExp(`^${tower}\\.blocks\\.(\\d+)\\.mlp\\.fc\\.`), `${prefix}transformer.resblocks.$1.mlp.c_fc.`],
  [new RegExp(`^${tower}\\.blocks\\.(\\d+)\\.mlp\\.proj\\.`), `${prefix}transformer.resblocks.$1.mlp.c_proj.`],
];

export const openClipParamName: ParamNamer = namer([
  [/^text\.token_embedding$/, 'token_embedding.weight'],
  [/^text\.positional_embedding$/, 'positional_embedding'],
  ...openClipBlock('text', ''),
  [/^text\.ln_final\./, 'ln_final.'],
  [/^text\.projection$/, 'text_projection'],
  [/^vision\.patch_embedding$/, 'visual.conv1.weight'],
  [/^vision\.class_embedding$/, 'visual.class_embedding'],
  [/^vision\.positional_embedding$/, 'visual.positional_embedding'],
  [/^vision\.(ln_pre|ln_post)\./, 'visual.$1.'],
  ...openClipBlock('vision', 'visual.'),
  [/^vision\.projection$/, 'visual.proj'],
]);
