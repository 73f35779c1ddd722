"""Writes the random-weight SigLIP of export_siglip.py (same family, size, seed and float16 token table, so
the same weights) in the OpenCLIP/Immich layout, as Immich's exporter writes an open_clip SigLIP
(machine-learning/export/immich_model_exporter/exporters/onnx/models/openclip.py, e.g. ViT-B-16-SigLIP__webli):

  config.json                 open_clip's model config (open_clip.get_model_config): embed_dim, init_logit_bias,
                              custom_text, vision_cfg (timm_model_name, timm_pool "map", timm_proj "none"),
                              text_cfg (context_length 64, hf_tokenizer_name, tokenizer_kwargs.clean "canonicalize",
                              no_causal_mask, proj_bias, pool_type "last"); no learned logit_scale or logit_bias
  textual/model.onnx          text int32 [1, 64] -> embedding float32 [1, D]  (encode_text(normalize=True), no dynamic axes)
  textual/tokenizer*.json     the tokenizer's save_pretrained files (here the SigLIP tokenizer fixture's)
  visual/model.onnx           image float32 [1, 3, S, S] -> embedding float32 [1, D]  (encode_image(normalize=True))
  visual/preprocess_cfg.json  open_clip.get_model_preprocess_cfg: size, mode, mean, std, interpolation,
                              resize_mode "squash", fill_color

The towers are siglip_model.py's, under open_clip's attribute names (text, visual); their layers keep the
Hugging Face names of that file. With --references, references.json as export_siglip.py writes it.

  nice /usr/bin/python3 embedder/model-gen/families/export_siglip_immich.py \
      --out test/fixtures/families/siglip-immich --references
"""

import argparse
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, '..')]
from export_siglip import BASE, CONTEXT, FAMILIES, copy_tokenizer, reference_cases, references, tokenizer_vocab_size  # noqa: E402
from siglip_model import SiglipConfig, SiglipModel, randomise  # noqa: E402
from torch_common.model_files import write_json  # noqa: E402
from torch_common.onnx_export import export_onnx, round_to_float16_, token_table_to_float16  # noqa: E402

FAMILY = 'siglip'
TOKEN_TABLE = 'text.token_embedding.weight'


class ImmichTower(torch.nn.Module):
    """One tower as Immich exports it: open_clip's encode_text / encode_image with normalize=True, the tower
    under its open_clip attribute name, its pooled output L2-normalised."""

    def __init__(self, name, tower):
        super().__init__()
        self.name = name
        setattr(self, name, tower)

    def forward(self, x):
        return F.normalize(getattr(self, self.name)(x)[0], dim=-1)


def open_clip_config(c):
    """open_clip's ViT-B-16-SigLIP.json with this model's sizes; the timm and tokenizer names are the real
    model's, the tiny sizes are also stated whole under crossmodal_model_sizes."""
    return {
        'embed_dim': c.vision_width,
        'init_logit_bias': -10,
        'custom_text': True,
        'vision_cfg': {
            'image_size': c.image_size, 'timm_model_name': 'vit_base_patch16_siglip_224', 'timm_model_pretrained': False,
            'timm_pool': 'map', 'timm_proj': 'none',
        },
        'text_cfg': {
            'context_length': c.max_position_embeddings, 'vocab_size': c.vocab_size, 'hf_tokenizer_name': 'timm/ViT-B-16-SigLIP',
            'tokenizer_kwargs': {'clean': 'canonicalize'}, 'width': c.text_width, 'heads': c.text_heads, 'layers': c.text_layers,
            'no_causal_mask': True, 'proj_bias': True, 'pool_type': 'last', 'norm_kwargs': {'eps': c.layer_norm_eps},
        },
        'crossmodal_random_weights': 'random weights (siglip) exported by PyTorch (embedder/model-gen/families/export_siglip_immich.py), '
                                     'the same as export_siglip.py writes in the Hugging Face layout: not a trained model',
        'crossmodal_model_sizes': c.to_dict(),
    }


def preprocess_cfg(size, resample_name):
    return {'size': [size, size], 'mode': 'RGB', 'mean': [0.5, 0.5, 0.5], 'std': [0.5, 0.5, 0.5],
            'interpolation': resample_name, 'resize_mode': 'squash', 'fill_color': 0}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', required=True)
    parser.add_argument('--size', choices=['tiny', 'base'], default='tiny')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--references', action='store_true', help='write references.json')
    args = parser.parse_args()
    torch.set_num_threads(1)

    spec = FAMILIES[FAMILY]
    c = SiglipConfig(vocab_size=tokenizer_vocab_size(FAMILY)) if args.size == 'tiny' else SiglipConfig(**BASE)
    torch.manual_seed(args.seed)
    model = SiglipModel(c, spec['logit_scale'], spec['logit_bias']).eval()
    randomise(model, args.seed)
    if args.size == 'tiny':
        round_to_float16_(model.text_model.token_embedding.weight)

    out = args.out
    for tower in ('textual', 'visual'):
        os.makedirs(os.path.join(out, tower), exist_ok=True)
    text_path = os.path.join(out, 'textual', 'model.onnx')
    vision_path = os.path.join(out, 'visual', 'model.onnx')
    export_onnx(ImmichTower('text', model.text_model).eval(), (torch.ones(1, CONTEXT, dtype=torch.int32),), text_path, ['text'], ['embedding'])
    export_onnx(ImmichTower('visual', model.vision_model).eval(), (torch.zeros(1, 3, c.image_size, c.image_size),), vision_path, ['image'], ['embedding'])
    if args.size == 'tiny':
        token_table_to_float16(text_path, TOKEN_TABLE)
    write_json(os.path.join(out, 'config.json'), open_clip_config(c))
    write_json(os.path.join(out, 'visual', 'preprocess_cfg.json'), preprocess_cfg(c.image_size, 'bicubic'))
    copy_tokenizer(FAMILY, os.path.join(out, 'textual'))
    if args.references:
        write_json(os.path.join(out, 'references.json'), references(model, FAMILY, out, reference_cases(FAMILY), spec['resample']))


if __name__ == '__main__':
    main()
