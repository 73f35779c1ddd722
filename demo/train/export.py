"""Writes a trained demo CLIP in the Hugging Face / Xenova split layout (as transformers.js's
scripts/extra/clip.py exports CLIPTextModelWithProjection / CLIPVisionModelWithProjection):

  onnx/text_model.onnx    input_ids int64 [batch_size, sequence_length]
                          -> text_embeds [batch_size, D], last_hidden_state [batch_size, sequence_length, W]
  onnx/vision_model.onnx  pixel_values float32 [batch_size, 3, S, S]
                          -> image_embeds [batch_size, D], last_hidden_state [batch_size, tokens, W]

Embeddings are projected, not normalised. The token embedding table (49,408 rows, most of the
model's bytes) is stored as float16 and cast to float32 right after its Gather; every other
weight, and every input and output, stays float32. config.json states the learned logit scale.
"""

import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'embedder', 'model-gen'))
from torch_common.model_files import OPENAI_MEAN, OPENAI_STD, write_json  # noqa: E402
from torch_common.onnx_export import Tower, export_onnx, round_to_float16_, token_table_to_float16  # noqa: E402

TEXT_MODEL = 'onnx/text_model.onnx'
VISION_MODEL = 'onnx/vision_model.onnx'
TOKEN_EMBEDDING = 'text_model.token_embedding.weight'


def export_tower(name, tower, example, input_name, output_name, axes, path):
    export_onnx(
        Tower(name, tower).eval(), (example,), path,
        input_names=[input_name], output_names=[output_name, 'last_hidden_state'],
        dynamic_axes={input_name: axes, output_name: {0: 'batch_size'}, 'last_hidden_state': axes if input_name == 'input_ids' else {0: 'batch_size'}},
    )


def hf_config(c, logit_scale):
    return {
        'architectures': ['CLIPModel'],
        'model_type': 'clip',
        'projection_dim': c.embed_dim,
        'logit_scale_init_value': 2.6592,
        'logit_scale': logit_scale,
        'text_config': {
            'model_type': 'clip_text_model', 'hidden_size': c.text_width, 'intermediate_size': c.text_width * c.mlp_ratio,
            'num_hidden_layers': c.text_layers, 'num_attention_heads': c.text_heads, 'max_position_embeddings': c.context_length,
            'vocab_size': c.vocab_size, 'hidden_act': 'quick_gelu', 'layer_norm_eps': c.layer_norm_eps,
            'bos_token_id': c.vocab_size - 2, 'eos_token_id': c.vocab_size - 1, 'pad_token_id': 1, 'projection_dim': c.embed_dim,
        },
        'vision_config': {
            'model_type': 'clip_vision_model', 'hidden_size': c.vision_width, 'intermediate_size': c.vision_width * c.mlp_ratio,
            'num_hidden_layers': c.vision_layers, 'num_attention_heads': c.vision_heads, 'num_channels': 3,
            'image_size': c.image_size, 'patch_size': c.patch_size, 'conv_stem_channels': list(c.vision_stem),
            'hidden_act': 'quick_gelu', 'layer_norm_eps': c.layer_norm_eps, 'projection_dim': c.embed_dim,
        },
        'crossmodal_demo': 'A small CLIP trained by demo/train on the synthetic shapes of demo/collection; '
                           'the vision tower has a convolutional stem before its patch embedding (conv_stem_channels). '
                           'Only the ONNX files are published, not PyTorch weights.',
    }


def preprocessor_config(size):
    return {
        'crop_size': {'height': size, 'width': size}, 'do_center_crop': True, 'do_convert_rgb': True, 'do_normalize': True,
        'do_rescale': True, 'do_resize': True, 'feature_extractor_type': 'CLIPFeatureExtractor',
        'image_processor_type': 'CLIPImageProcessor', 'image_mean': OPENAI_MEAN, 'image_std': OPENAI_STD, 'resample': 3,
        'rescale_factor': 0.00392156862745098, 'size': {'shortest_edge': size},
    }


@torch.no_grad()
def reference_embeddings(model, validation, normalise, count=6):
    """PyTorch's unit-norm embeddings of a few validation items, for the served model to be checked against."""
    items, pixels = validation
    chosen = list(range(count))
    ids = [items[i]['tokenIds'][0] for i in chosen]
    texts = [torch.nn.functional.normalize(model.text_model(torch.tensor([row]))[0], dim=-1)[0] for row in ids]
    images = torch.nn.functional.normalize(model.vision_model(normalise(pixels[chosen]))[0], dim=-1)
    return {
        'texts': [{'id': items[i]['id'], 'text': items[i]['caption'], 'ids': ids[n], 'embedding': [round(v, 6) for v in texts[n].tolist()]} for n, i in enumerate(chosen)],
        'images': [{'id': items[i]['id'], 'embedding': [round(v, 6) for v in images[n].tolist()]} for n, i in enumerate(chosen)],
    }


def export_model(model, out_dir, training, validation, normalise):
    c = model.config
    os.makedirs(os.path.join(out_dir, 'onnx'), exist_ok=True)
    text_path = os.path.join(out_dir, TEXT_MODEL)
    vision_path = os.path.join(out_dir, VISION_MODEL)
    example_ids = torch.tensor([[49406, 320, 736, 2866, 49407], [49406, 320, 49407, 49407, 49407]])
    export_tower('text_model', model.text_model, example_ids, 'input_ids', 'text_embeds', {0: 'batch_size', 1: 'sequence_length'}, text_path)
    example_pixels = torch.zeros(2, 3, c.image_size, c.image_size)
    export_tower('vision_model', model.vision_model, example_pixels, 'pixel_values', 'image_embeds', {0: 'batch_size'}, vision_path)
    token_table_to_float16(text_path, TOKEN_EMBEDDING)
    # torch.onnx.export restores the wrapper's (training) mode on the towers; the references need eval
    # mode, as the export has it (batch norm from its running statistics).
    model.eval()
    write_json(os.path.join(out_dir, 'config.json'), hf_config(c, round(model.logit_scale.item(), 6)))
    write_json(os.path.join(out_dir, 'preprocessor_config.json'), preprocessor_config(c.image_size))
    # The float16 table is what the served model reads, so the references use it too.
    round_to_float16_(model.text_model.token_embedding.weight)
    write_json(os.path.join(out_dir, 'training.json'), {
        **training,
        'architecture': c.to_dict(),
        'logit_scale': model.logit_scale.item(),
        'reference_embeddings': reference_embeddings(model, validation, normalise),
    })
