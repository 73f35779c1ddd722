"""Writes a random-weight multilingual CLIP in the OpenCLIP/Immich layout of Immich's M-CLIP models
(immich-app/XLM-Roberta-Large-Vit-B-16Plus and its siblings, exported by Immich's
immich_model_exporter/exporters/onnx/models/mclip.py):

  textual/model.onnx   input_ids int32 [1, 77], attention_mask int32 [1, 77] -> embedding float32 [1, D]
                       XLM-RoBERTa (post-LayerNorm BERT encoder; position ids counted from padding_idx + 1
                       over the non-pad tokens), mean-pooled over the attention mask, then
                       M-CLIP's LinearTransformation, L2-normalised
  textual/tokenizer.json, tokenizer_config.json, special_tokens_map.json
                       linked to test/fixtures/tokenizers/xlm-roberta/ (XLM-R's layout: <s> ... </s>,
                       <pad> = 1, fairseq ids)
  visual/model.onnx    image float32 [1, 3, S, S] -> embedding float32 [1, D]
                       OpenCLIP's VisionTransformer (patch convolution, class token, ln_pre, pre-LayerNorm
                       blocks with GELU, ln_post on the class token, projection), L2-normalised
  visual/preprocess_cfg.json
                       open_clip's PreprocessCfg: shortest side to S (bicubic), centre crop, OpenAI mean/std
  config.json          the open_clip config of the vision model, as Immich writes it for M-CLIP (its
                       text_cfg is the CLIP text tower's, which the M-CLIP model does not use)

Batch 1 and sequence 77 are fixed, as in Immich's exports (their dynamic axes are commented out).

With the model, references.json: for texts of test/fixtures/tokenizers/cases.json (their SentencePiece
reference ids from that folder, padded with <pad> to 77, mask 1 over the ids) and the images of
images/ (drawn here), PyTorch's unit-norm embeddings, and each image's preprocessed tensor digest.

  nice /usr/bin/python3 embedder/model-gen/families/multilingual/export_multilingual_clip.py \
      --out test/fixtures/families/multilingual-clip
"""

import argparse
import hashlib
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
from torch_common.model_files import OPENAI_MEAN, OPENAI_STD, rounded, tokenizer_vocab_size, write_json  # noqa: E402
from torch_common.onnx_export import export_onnx, token_table_to_float16  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
TOKENIZER = os.path.join(ROOT, 'test', 'fixtures', 'tokenizers', 'xlm-roberta')
TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']
CONTEXT = 77
PAD_ID = 1

TEXT = dict(width=32, layers=2, heads=2, intermediate=64, max_positions=CONTEXT + PAD_ID + 2, eps=1e-5)
VISION = dict(image_size=32, patch=8, width=32, layers=2, heads=2, mlp=128, eps=1e-5)
EMBED_DIM = 16
TOKEN_TABLE = 'embeddings.word_embeddings'

# Of test/fixtures/tokenizers/cases.json: English, German, French, Russian, Chinese, Japanese, Arabic,
# Hindi, Thai, emoji, padded whitespace, and a text truncated to the context.
REFERENCE_TEXTS = [
    'a photo of a cat', 'Ein Hund läuft über die Straße', "L'été dernier, à Paris, il faisait très chaud",
    'Вы знали, что все белые медведи левши?', '一只猫坐在窗台上', '猫がソファの上で寝ている', 'قطة تجلس على الأريكة',
    'एक बिल्ली सोफे पर बैठी है', 'แมวนั่งอยู่บนโซฟา', 'a cat 🐱 and a dog 🐶', '  leading and trailing  ',
]
REFERENCE_LONG_PREFIX = 'a photo of a cat A Photo Of A Dog'


# ---------------------------------------------------------------------------------------------
# XLM-RoBERTa text tower with M-CLIP's pooling and projection.


class XlmRobertaLayer(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        w = c['width']
        self.heads = c['heads']
        self.query, self.key, self.value, self.output = (torch.nn.Linear(w, w) for _ in range(4))
        self.attention_norm = torch.nn.LayerNorm(w, eps=c['eps'])
        self.intermediate = torch.nn.Linear(w, c['intermediate'])
        self.down = torch.nn.Linear(c['intermediate'], w)
        self.output_norm = torch.nn.LayerNorm(w, eps=c['eps'])

    def forward(self, x, mask_bias):
        batch, length, width = x.shape
        head = width // self.heads

        def split(t):
            return t.view(batch, length, self.heads, head).transpose(1, 2)

        scores = split(self.query(x)) @ split(self.key(x)).transpose(-1, -2) / math.sqrt(head) + mask_bias
        context = (scores.softmax(-1) @ split(self.value(x))).transpose(1, 2).reshape(batch, length, width)
        x = self.attention_norm(x + self.output(context))
        return self.output_norm(x + self.down(F.gelu(self.intermediate(x))))


class MultilingualTextTower(torch.nn.Module):
    def __init__(self, vocab_size, c, embed_dim):
        super().__init__()
        w = c['width']
        self.embeddings = torch.nn.Module()
        # The token table is stored as float16 in the ONNX file; the model reads the same rounded values.
        self.embeddings.word_embeddings = torch.nn.Parameter(torch.randn(vocab_size, w).half().float())
        self.embeddings.position_embeddings = torch.nn.Embedding(c['max_positions'], w)
        self.embeddings.token_type_embeddings = torch.nn.Embedding(1, w)
        self.embeddings.norm = torch.nn.LayerNorm(w, eps=c['eps'])
        self.layers = torch.nn.ModuleList(XlmRobertaLayer(c) for _ in range(c['layers']))
        self.linear_transformation = torch.nn.Linear(w, embed_dim)

    def forward(self, input_ids, attention_mask):
        ids = input_ids.long()
        # transformers' create_position_ids_from_input_ids: pads keep padding_idx, tokens count from it.
        not_pad = (ids != PAD_ID).long()
        positions = torch.cumsum(not_pad, dim=1) * not_pad + PAD_ID
        e = self.embeddings
        x = F.embedding(ids, e.word_embeddings) + e.position_embeddings(positions) + e.token_type_embeddings.weight[0]
        x = e.norm(x)
        mask = attention_mask.float()
        mask_bias = (1.0 - mask)[:, None, None, :] * torch.finfo(torch.float32).min
        for layer in self.layers:
            x = layer(x, mask_bias)
        # M-CLIP: the mean of the token states under the attention mask, then LinearTransformation.
        pooled = (x * mask[:, :, None]).sum(dim=1) / mask.sum(dim=1)[:, None]
        return F.normalize(self.linear_transformation(pooled), dim=-1)


# ---------------------------------------------------------------------------------------------
# OpenCLIP's VisionTransformer.


class VisionBlock(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        w = c['width']
        self.heads = c['heads']
        self.ln_1 = torch.nn.LayerNorm(w, eps=c['eps'])
        self.in_proj = torch.nn.Linear(w, 3 * w)
        self.out_proj = torch.nn.Linear(w, w)
        self.ln_2 = torch.nn.LayerNorm(w, eps=c['eps'])
        self.c_fc = torch.nn.Linear(w, c['mlp'])
        self.c_proj = torch.nn.Linear(c['mlp'], w)
        # Sharper attention and a stronger MLP than the default initialisation: random images stay apart.
        torch.nn.init.normal_(self.in_proj.weight, std=0.4)
        torch.nn.init.normal_(self.c_fc.weight, std=0.3)

    def forward(self, x):
        batch, length, width = x.shape
        head = width // self.heads
        q, k, v = (t.view(batch, length, self.heads, head).transpose(1, 2) for t in self.in_proj(self.ln_1(x)).chunk(3, dim=-1))
        attention = ((q @ k.transpose(-1, -2)) / math.sqrt(head)).softmax(-1) @ v
        x = x + self.out_proj(attention.transpose(1, 2).reshape(batch, length, width))
        return x + self.c_proj(F.gelu(self.c_fc(self.ln_2(x))))


class VisionTower(torch.nn.Module):
    def __init__(self, c, embed_dim):
        super().__init__()
        w = c['width']
        grid = c['image_size'] // c['patch']
        self.conv1 = torch.nn.Conv2d(3, w, kernel_size=c['patch'], stride=c['patch'], bias=False)
        # A small class token and strong patch embeddings, so that random weights still tell images apart.
        torch.nn.init.normal_(self.conv1.weight, std=0.5)
        self.class_embedding = torch.nn.Parameter(torch.randn(w) * 0.05)
        self.positional_embedding = torch.nn.Parameter(torch.randn(grid * grid + 1, w) * w ** -0.5)
        self.ln_pre = torch.nn.LayerNorm(w, eps=c['eps'])
        self.blocks = torch.nn.ModuleList(VisionBlock(c) for _ in range(c['layers']))
        self.ln_post = torch.nn.LayerNorm(w, eps=c['eps'])
        self.proj = torch.nn.Parameter(torch.randn(w, embed_dim) * w ** -0.5)

    def forward(self, image):
        x = self.conv1(image).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_embedding.expand(x.shape[0], 1, -1), x], dim=1) + self.positional_embedding
        x = self.ln_pre(x)
        for block in self.blocks:
            x = block(x)
        return F.normalize(self.ln_post(x[:, 0]) @ self.proj, dim=-1)


def randomise_norms(model, generator):
    """LayerNorm weights away from 1 and biases away from 0, so that the exported graph must apply them."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.LayerNorm):
                module.weight.copy_(1 + 0.2 * torch.randn(module.weight.shape, generator=generator))
                module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=generator))


# ---------------------------------------------------------------------------------------------
# Export.


def export(module, args, input_names, path):
    export_onnx(module.eval(), args, path, input_names=input_names, output_names=['embedding'])


def link_tokenizer(out):
    textual = os.path.join(out, 'textual')
    for name in TOKENIZER_FILES:
        link = os.path.join(textual, name)
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(os.path.relpath(os.path.join(TOKENIZER, name), textual), link)


# ---------------------------------------------------------------------------------------------
# Images and references.


def pattern(width, height, seed):
    """Gradients, a checkerboard and noise in a colour cast of its own per seed."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    ramp = np.stack([x / max(1, width - 1), y / max(1, height - 1), ((x >> 2) + (y >> 2)) % 2], -1)
    rgb = 255 * ramp[..., rng.permutation(3)] * rng.uniform(0.3, 1.0, 3)
    return np.clip(rgb + rng.uniform(0, 40, rgb.shape), 0, 255).astype(np.uint8)


def draw_images(directory):
    os.makedirs(directory, exist_ok=True)
    Image.fromarray(pattern(48, 36, 1)).save(os.path.join(directory, 'wide.png'))
    Image.fromarray(pattern(40, 60, 2)).save(os.path.join(directory, 'tall.jpg'), quality=92)
    alpha = np.tile(np.linspace(0, 255, 50).astype(np.uint8), (50, 1))[..., None]
    Image.fromarray(np.concatenate([pattern(50, 50, 3), alpha], -1), 'RGBA').save(os.path.join(directory, 'square_rgba.png'))
    return ['wide.png', 'tall.jpg', 'square_rgba.png']


def preprocess(path, size):
    """Hugging Face's CLIPImageProcessor on PIL, which the embedder reproduces for open_clip's PreprocessCfg
    (shortest side to `size`, long side truncated, bicubic; centre crop at floor offsets; OpenAI mean/std)."""
    image = ImageOps.exif_transpose(Image.open(path)).convert('RGB')
    width, height = image.size
    short, long = min(width, height), max(width, height)
    resized_long = int(size * long / short)
    image = image.resize((size, resized_long) if width <= height else (resized_long, size), Image.BICUBIC)
    left, top = (image.width - size) // 2, (image.height - size) // 2
    image = image.crop((left, top, left + size, top + size))
    pixels = np.asarray(image, dtype=np.float32) * np.float32(1 / 255)
    pixels = (pixels - np.array(OPENAI_MEAN, np.float32)) / np.array(OPENAI_STD, np.float32)
    return pixels.transpose(2, 0, 1).astype(np.float32)


def reference_texts():
    with open(os.path.join(TOKENIZER, '..', 'cases.json')) as f:
        cases = json.load(f)
    with open(os.path.join(TOKENIZER, 'reference-ids.json')) as f:
        ids = json.load(f)['ids']
    chosen = [cases.index(text) for text in REFERENCE_TEXTS]
    chosen.append(next(i for i, text in enumerate(cases) if text.startswith(REFERENCE_LONG_PREFIX) and len(ids[i]) == CONTEXT))
    return [(cases[i], ids[i]) for i in chosen]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', required=True)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed + 1)

    text_tower = MultilingualTextTower(tokenizer_vocab_size(os.path.join(TOKENIZER, 'tokenizer.json')), TEXT, EMBED_DIM).eval()
    vision_tower = VisionTower(VISION, EMBED_DIM).eval()
    randomise_norms(text_tower, generator)
    randomise_norms(vision_tower, generator)

    out = args.out
    for sub in ('textual', 'visual'):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    text_path = os.path.join(out, 'textual', 'model.onnx')
    example_ids = torch.ones(1, CONTEXT, dtype=torch.int32)
    export(text_tower, (example_ids, torch.ones(1, CONTEXT, dtype=torch.int32)), ['input_ids', 'attention_mask'], text_path)
    token_table_to_float16(text_path, TOKEN_TABLE)
    size = VISION['image_size']
    export(vision_tower, (torch.zeros(1, 3, size, size),), ['image'], os.path.join(out, 'visual', 'model.onnx'))
    link_tokenizer(out)
    write_json(os.path.join(out, 'config.json'), {
        'embed_dim': EMBED_DIM,
        'vision_cfg': {'image_size': size, 'layers': VISION['layers'], 'width': VISION['width'], 'patch_size': VISION['patch']},
        'text_cfg': {'context_length': CONTEXT, 'vocab_size': 49408, 'width': 32, 'heads': 2, 'layers': 2},
        'crossmodal_random_weights': 'random weights written by embedder/model-gen/families/multilingual/export_multilingual_clip.py',
    }, indent=1, ensure_ascii=False)
    write_json(os.path.join(out, 'visual', 'preprocess_cfg.json'), {
        'size': [size, size], 'mode': 'RGB', 'mean': OPENAI_MEAN, 'std': OPENAI_STD,
        'interpolation': 'bicubic', 'resize_mode': 'shortest', 'fill_color': 0,
    }, indent=1, ensure_ascii=False)

    texts = reference_texts()
    files = draw_images(os.path.join(out, 'images'))
    with torch.no_grad():
        text_rows = []
        for text, ids in texts:
            padded = torch.full((1, CONTEXT), PAD_ID, dtype=torch.int32)
            padded[0, :len(ids)] = torch.tensor(ids, dtype=torch.int32)
            mask = torch.zeros(1, CONTEXT, dtype=torch.int32)
            mask[0, :len(ids)] = 1
            text_rows.append({'text': text, 'ids': ids, 'embedding': rounded(text_tower(padded, mask)[0])})
        image_rows = []
        for name in files:
            pixels = preprocess(os.path.join(out, 'images', name), size)
            embedding = vision_tower(torch.from_numpy(pixels)[None])[0]
            image_rows.append({'file': f'images/{name}', 'pixels_sha256': hashlib.sha256(pixels.astype('<f4').tobytes()).hexdigest(),
                               'embedding': rounded(embedding)})
    write_json(os.path.join(out, 'references.json'), {
        'family': 'multilingual-clip', 'context_length': CONTEXT, 'pad_id': PAD_ID, 'texts': text_rows, 'images': image_rows,
    }, indent=1, ensure_ascii=False)


if __name__ == '__main__':
    main()
