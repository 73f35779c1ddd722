"""Writes a random-weight SigLIP (or fixed-resolution SigLIP 2) in the Hugging Face / Xenova split layout,
as Xenova's and onnx-community's exports of SiglipTextModel / SiglipVisionModel have it:

  onnx/text_model.onnx    input_ids int64 [batch_size, sequence_length]
                          -> pooler_output [batch_size, D], last_hidden_state [batch_size, sequence_length, W]
  onnx/vision_model.onnx  pixel_values float32 [batch_size, 3, S, S]
                          -> pooler_output [batch_size, D], last_hidden_state [batch_size, patches, D]

with config.json (model_type "siglip"; logit_scale and logit_bias, which the real split exports keep only
inside their combined onnx/model.onnx, are stated at its top level), preprocessor_config.json
(SiglipImageProcessor: resize straight to S x S, no crop, mean = std = 0.5) and the tokenizer files of
the family, copied from test/fixtures/tokenizers/<family>/.

The tiny model's vocabulary is the tokenizer's (the SentencePiece fixtures of test/fixtures/tokenizers/
have 8,000 pieces); --size base is the benchmark's ViT-B/16 with SigLIP's 32,000 rows.

With --references, the fixture also gets references.json: for a few texts of
test/fixtures/tokenizers/cases.json (their reference ids from that folder, padded to 64 with the pad
id) and the images of test/fixtures/families/images/ (fixture_images.py), PyTorch's pooled output and
unit-norm embedding, each image's preprocessed tensor digest (Pillow's pipeline), and the sigmoid
probabilities of every text with every image.

  nice /usr/bin/python3 embedder/model-gen/families/export_siglip.py --family siglip \
      --out test/fixtures/families/siglip --references
"""

import argparse
import hashlib
import json
import os
import shutil
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, '..')]
from fixture_images import IMAGES, draw_images, preprocess_siglip  # noqa: E402
from siglip_model import SiglipConfig, SiglipModel, randomise  # noqa: E402
from torch_common import model_files  # noqa: E402
from torch_common.model_files import rounded, write_json  # noqa: E402
from torch_common.onnx_export import Tower, export_onnx, round_to_float16_, token_table_to_float16  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
TOKENIZERS = os.path.join(ROOT, 'test', 'fixtures', 'tokenizers')
TOKEN_TABLE = 'text_model.token_embedding.weight'
CONTEXT = 64

FAMILIES = {
    # google/siglip-base-patch16-224: SentencePiece Unigram tokenizer, bicubic resize.
    'siglip': {'resample': Image.BICUBIC, 'logit_scale': 2.5, 'logit_bias': -3.0},
    # google/siglip2-base-patch16-224: Gemma's BPE tokenizer, bilinear resize.
    'siglip2': {'resample': Image.BILINEAR, 'logit_scale': 2.2, 'logit_bias': -1.5},
}
# ViT-B/16 at 224 with SigLIP's text tower (the benchmark's model).
BASE = dict(text_width=768, text_layers=12, text_heads=12, text_intermediate=3072,
            vision_width=768, vision_layers=12, vision_heads=12, vision_intermediate=3072)
PIL_RESAMPLE = {Image.BILINEAR: 2, Image.BICUBIC: 3}

REFERENCE_IMAGES = ['landscape.jpg', 'rotated_exif6.jpg', 'small_rgba.png', 'grey.png']
# Of test/fixtures/tokenizers/cases.json: a short caption, a long one, punctuation and capitals,
# German with umlauts, the empty text, and one truncated to the context.
REFERENCE_CASES = [0, 11, 16, 43, 71, 340, 355]


def export_tower(name, tower, example, input_name, axes, path):
    export_onnx(
        Tower(name, tower).eval(), (example,), path,
        input_names=[input_name], output_names=['pooler_output', 'last_hidden_state'],
        dynamic_axes={input_name: axes, 'pooler_output': {0: 'batch_size'},
                      'last_hidden_state': {0: 'batch_size', 1: 'sequence_length'} if input_name == 'input_ids' else {0: 'batch_size'}},
    )


def store_token_table_float16(path, model):
    """The exported text graph's token table as float16, with a Cast to float32 right after the Gather
    that reads it; the PyTorch model reads the same rounded values."""
    round_to_float16_(model.text_model.token_embedding.weight)
    token_table_to_float16(path, TOKEN_TABLE)


def tokenizer_vocab_size(family):
    """The token table's rows for the family's tokenizer.json."""
    return model_files.tokenizer_vocab_size(os.path.join(TOKENIZERS, family, 'tokenizer.json'))


def reference_cases(family):
    """Texts of the tokenizer fixtures with their reference ids (SentencePiece's, unpadded) and pad id."""
    with open(os.path.join(TOKENIZERS, 'cases.json')) as f:
        texts = json.load(f)
    with open(os.path.join(TOKENIZERS, family, 'reference-ids.json')) as f:
        reference = json.load(f)
    return [{'text': texts[i], 'ids': reference['ids'][i], 'pad_id': reference['padId']} for i in REFERENCE_CASES]


def hf_config(c, family, logit_scale, logit_bias):
    return {
        'architectures': ['SiglipModel'],
        'model_type': 'siglip',
        'logit_scale': logit_scale,
        'logit_bias': logit_bias,
        'text_config': {
            'model_type': 'siglip_text_model', 'vocab_size': c.vocab_size, 'hidden_size': c.text_width,
            'intermediate_size': c.text_intermediate, 'num_hidden_layers': c.text_layers,
            'num_attention_heads': c.text_heads, 'max_position_embeddings': c.max_position_embeddings,
            'projection_size': c.vision_width, 'hidden_act': 'gelu_pytorch_tanh', 'layer_norm_eps': c.layer_norm_eps,
        },
        'vision_config': {
            'model_type': 'siglip_vision_model', 'hidden_size': c.vision_width, 'intermediate_size': c.vision_intermediate,
            'num_hidden_layers': c.vision_layers, 'num_attention_heads': c.vision_heads, 'num_channels': 3,
            'image_size': c.image_size, 'patch_size': c.patch_size, 'hidden_act': 'gelu_pytorch_tanh',
            'layer_norm_eps': c.layer_norm_eps,
        },
        # The key embedder/model-gen marks its random models with (the embedder's notice reads it).
        'crossmodal_random_weights': f'random weights ({family}) exported by PyTorch (embedder/model-gen/families/export_siglip.py): '
                                     'not a trained model; logit_scale and logit_bias are the log scale and the bias of the sigmoid',
    }


def preprocessor_config(size, resample):
    return {
        'do_convert_rgb': None, 'do_normalize': True, 'do_rescale': True, 'do_resize': True,
        'image_mean': [0.5, 0.5, 0.5], 'image_processor_type': 'SiglipImageProcessor', 'image_std': [0.5, 0.5, 0.5],
        'processor_class': 'SiglipProcessor', 'resample': PIL_RESAMPLE[resample],
        'rescale_factor': 0.00392156862745098, 'size': {'height': size, 'width': size},
    }


def copy_tokenizer(family, out_dir):
    """The family's tokenizer files, copied: the model and its references then stay together whatever
    becomes of the tokenizer fixtures later."""
    source = os.path.join(TOKENIZERS, family)
    names = [n for n in ('tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json') if os.path.exists(os.path.join(source, n))]
    if 'tokenizer.json' not in names:
        raise SystemExit(f'{source} has no tokenizer.json')
    for name in names:
        target = os.path.join(out_dir, name)
        if os.path.lexists(target):
            os.remove(target)
        shutil.copyfile(os.path.join(source, name), target)


# --- references -------------------------------------------------------------------------------------------

def unit(t):
    return torch.nn.functional.normalize(t, dim=-1)


@torch.no_grad()
def references(model, family, out_dir, cases, resample):
    c = model.config
    files = [f for f in draw_images(IMAGES) if f in REFERENCE_IMAGES]
    pixels = [preprocess_siglip(os.path.join(IMAGES, f), c.image_size, resample) for f in files]
    image_pooled = model.vision_model(torch.from_numpy(np.stack(pixels)))[0]
    ids = torch.tensor([case['ids'] + [case['pad_id']] * (CONTEXT - len(case['ids'])) for case in cases])
    text_pooled = model.text_model(ids)[0]
    probabilities = torch.sigmoid(model.logits_per_text(unit(text_pooled), unit(image_pooled)))
    return {
        'family': family,
        'context_length': CONTEXT,
        'logit_scale': model.logit_scale.item(),
        'logit_bias': model.logit_bias.item(),
        'texts': [
            {'text': case['text'], 'ids': case['ids'], 'pad_id': case['pad_id'], 'pooler_output': rounded(text_pooled[i]), 'embedding': rounded(unit(text_pooled[i]))}
            for i, case in enumerate(cases)
        ],
        'images': [
            {'file': os.path.relpath(os.path.join(IMAGES, f), out_dir), 'pixels_sha256': hashlib.sha256(pixels[i].astype('<f4').tobytes()).hexdigest(),
             'pooler_output': rounded(image_pooled[i]), 'embedding': rounded(unit(image_pooled[i]))}
            for i, f in enumerate(files)
        ],
        'probabilities': {'note': 'sigmoid(exp(logit_scale) * cos(text, image) + logit_bias), one row per text',
                          'rows': [rounded(row) for row in probabilities]},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--family', choices=sorted(FAMILIES), required=True)
    parser.add_argument('--out', required=True)
    parser.add_argument('--size', choices=['tiny', 'base'], default='tiny')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--references', action='store_true', help='write images/ and references.json')
    args = parser.parse_args()
    torch.set_num_threads(1)

    spec = FAMILIES[args.family]
    c = SiglipConfig(vocab_size=tokenizer_vocab_size(args.family)) if args.size == 'tiny' else SiglipConfig(**BASE)
    torch.manual_seed(args.seed)
    model = SiglipModel(c, spec['logit_scale'], spec['logit_bias']).eval()
    randomise(model, args.seed)

    out = args.out
    os.makedirs(os.path.join(out, 'onnx'), exist_ok=True)
    text_path = os.path.join(out, 'onnx', 'text_model.onnx')
    vision_path = os.path.join(out, 'onnx', 'vision_model.onnx')
    export_tower('text_model', model.text_model, torch.ones(2, CONTEXT, dtype=torch.long), 'input_ids', {0: 'batch_size', 1: 'sequence_length'}, text_path)
    export_tower('vision_model', model.vision_model, torch.zeros(2, 3, c.image_size, c.image_size), 'pixel_values', {0: 'batch_size'}, vision_path)
    if args.size == 'tiny':
        store_token_table_float16(text_path, model)
    write_json(os.path.join(out, 'config.json'), hf_config(c, args.family, model.logit_scale.item(), model.logit_bias.item()))
    write_json(os.path.join(out, 'preprocessor_config.json'), preprocessor_config(c.image_size, spec['resample']))
    copy_tokenizer(args.family, out)
    if args.references:
        write_json(os.path.join(out, 'references.json'), references(model, args.family, out, reference_cases(args.family), spec['resample']))


if __name__ == '__main__':
    main()
