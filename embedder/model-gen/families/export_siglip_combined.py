"""Writes the combined graph of a random-weight SigLIP, onnx/model.onnx as Optimum exports SiglipModel for
Xenova's and onnx-community's repositories: inputs input_ids and pixel_values, outputs logits_per_image,
logits_per_text, text_embeds and image_embeds, through SiglipModel.forward's own arithmetic:

  logits_per_text = text_embeds @ image_embeds.T * logit_scale.exp() + logit_bias

It is the one graph of such a repository that holds the learned logit_scale and logit_bias; the embedder
reads them from it where config.json does not state them (embedder/model/combined-scoring.ts). The weights
are those export_siglip.py draws for the same family and seed (its token table rounded to float16 the same
way), so the combined graph and the split towers of test/fixtures/families/<family> are one model.
Constant folding is on, as in Optimum's export: torch folds the parameters' casts into anonymous
initializers (onnx::Exp_N, onnx::Add_N), so the values are found by the graph's structure, not by name.

  nice /usr/bin/python3 embedder/model-gen/families/export_siglip_combined.py --family siglip \
      --out test/fixtures/families/siglip-combined/model.onnx
"""

import argparse
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, '..')]
from export_siglip import CONTEXT, FAMILIES, store_token_table_float16, tokenizer_vocab_size  # noqa: E402
from siglip_model import SiglipConfig, SiglipModel, randomise  # noqa: E402
from torch_common.onnx_export import export_onnx  # noqa: E402


class CombinedSiglip(torch.nn.Module):
    """SiglipModel.forward (transformers' modeling_siglip.py) over the project's towers, weights under their names there."""

    def __init__(self, model: SiglipModel):
        super().__init__()
        self.text_model = model.text_model
        self.vision_model = model.vision_model
        self.logit_scale = model.logit_scale
        self.logit_bias = model.logit_bias

    def forward(self, input_ids, pixel_values):
        image_embeds = self.vision_model(pixel_values)[0]
        text_embeds = self.text_model(input_ids)[0]
        image_embeds = image_embeds / image_embeds.norm(p=2, dim=-1, keepdim=True)
        text_embeds = text_embeds / text_embeds.norm(p=2, dim=-1, keepdim=True)
        logits_per_text = torch.matmul(text_embeds, image_embeds.t().to(text_embeds.device))
        logit_scale, logit_bias = self.logit_scale.to(text_embeds.device), self.logit_bias.to(text_embeds.device)
        logits_per_text = logits_per_text * logit_scale.exp() + logit_bias
        return logits_per_text.t(), logits_per_text, text_embeds, image_embeds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--family', choices=sorted(FAMILIES), required=True)
    parser.add_argument('--out', required=True, help='the .onnx file to write')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)

    spec = FAMILIES[args.family]
    c = SiglipConfig(vocab_size=tokenizer_vocab_size(args.family))
    torch.manual_seed(args.seed)
    model = SiglipModel(c, spec['logit_scale'], spec['logit_bias']).eval()
    randomise(model, args.seed)

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    export_onnx(
        CombinedSiglip(model).eval(), (torch.ones(2, CONTEXT, dtype=torch.long), torch.zeros(2, 3, c.image_size, c.image_size)), args.out,
        input_names=['input_ids', 'pixel_values'],
        output_names=['logits_per_image', 'logits_per_text', 'text_embeds', 'image_embeds'],
        dynamic_axes={'input_ids': {0: 'text_batch_size', 1: 'sequence_length'}, 'pixel_values': {0: 'image_batch_size'},
                      'logits_per_image': {0: 'image_batch_size', 1: 'text_batch_size'},
                      'logits_per_text': {0: 'text_batch_size', 1: 'image_batch_size'},
                      'text_embeds': {0: 'text_batch_size'}, 'image_embeds': {0: 'image_batch_size'}},
    )
    store_token_table_float16(args.out, model)


if __name__ == '__main__':
    main()
