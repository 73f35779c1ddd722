"""A small CLIP in PyTorch, written like Hugging Face's CLIPModel (modeling_clip.py) so that its
ONNX export has the graph shapes published CLIP exports have (the vision tower adds a
convolutional stem before its patch embedding): pre-LN transformer blocks with
separate q/k/v projections and quick_gelu, a causal text mask, the text pooled at the first
<|endoftext|> (argmax of the ids, flattened then gathered), the image pooled at the class token,
and linear projections without bias. The learned logit scale is a parameter of the model.
The encoder layer is embedder/model-gen/torch_common/transformer.py's, which the SigLIP fixtures'
model shares (here with quick_gelu and the queries scaled before the product, as CLIPAttention)."""

import math
import os
import sys
from dataclasses import dataclass, asdict

import torch
from torch import nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'embedder', 'model-gen'))
from torch_common.transformer import EncoderLayer, quick_gelu  # noqa: E402


@dataclass
class ClipConfig:
    vocab_size: int = 49408
    context_length: int = 77
    text_width: int = 64
    text_layers: int = 3
    text_heads: int = 4
    image_size: int = 64
    patch_size: int = 8
    vision_width: int = 128
    # Channels of the stride-2 3x3 convolutions, each batch-normalised, before the patch embedding
    # (a convolutional stem, Xiao et al. 2021: without it, or without the normalisation, this tower
    # learnt shapes several times slower); the patch embedding then patchifies their output, so the
    # token grid is image_size / (2 ** len(vision_stem) * patch_size) on a side.
    vision_stem: tuple = ()
    vision_layers: int = 4
    vision_heads: int = 4
    embed_dim: int = 64
    mlp_ratio: int = 4
    layer_norm_eps: float = 1e-5

    def to_dict(self):
        return asdict(self)


def clip_layer(width, heads, c: ClipConfig):
    return EncoderLayer(width, heads, width * c.mlp_ratio, c.layer_norm_eps, activation=quick_gelu, scale_queries=True)


class TextTower(nn.Module):
    def __init__(self, c: ClipConfig):
        super().__init__()
        self.token_embedding = nn.Embedding(c.vocab_size, c.text_width)
        self.position_embedding = nn.Embedding(c.context_length, c.text_width)
        self.layers = nn.ModuleList([clip_layer(c.text_width, c.text_heads, c) for _ in range(c.text_layers)])
        self.final_layer_norm = nn.LayerNorm(c.text_width, eps=c.layer_norm_eps)
        self.text_projection = nn.Linear(c.text_width, c.embed_dim, bias=False)
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        nn.init.normal_(self.position_embedding.weight, std=0.01)

    def forward(self, input_ids):
        b, n = input_ids.shape
        positions = torch.arange(n, device=input_ids.device).unsqueeze(0)
        x = self.token_embedding(input_ids) + self.position_embedding(positions)
        causal = torch.full((n, n), float('-inf'), device=x.device).triu(1)[None, None]
        for layer in self.layers:
            x = layer(x, causal)
        last_hidden_state = self.final_layer_norm(x)
        # The first <|endoftext|> (the largest id), as CLIP pools; int32 because ORT's ArgMax lacks int64.
        eot = input_ids.to(dtype=torch.int).argmax(dim=-1)
        pooled = last_hidden_state[torch.arange(b, device=x.device), eot]
        return self.text_projection(pooled), last_hidden_state


class VisionTower(nn.Module):
    def __init__(self, c: ClipConfig):
        super().__init__()
        stem, channels = [], 3
        for width in c.vision_stem:
            stem.append(nn.Sequential(nn.Conv2d(channels, width, kernel_size=3, stride=2, padding=1, bias=False), nn.BatchNorm2d(width)))
            channels = width
        self.stem = nn.ModuleList(stem)
        self.patch_embedding = nn.Conv2d(channels, c.vision_width, kernel_size=c.patch_size, stride=c.patch_size, bias=False)
        patches = (c.image_size // (2 ** len(c.vision_stem) * c.patch_size)) ** 2
        self.class_embedding = nn.Parameter(torch.randn(c.vision_width) * c.vision_width ** -0.5)
        self.position_embedding = nn.Embedding(patches + 1, c.vision_width)
        nn.init.normal_(self.position_embedding.weight, std=0.02)
        self.register_buffer('position_ids', torch.arange(patches + 1).unsqueeze(0), persistent=False)
        self.pre_layrnorm = nn.LayerNorm(c.vision_width, eps=c.layer_norm_eps)
        self.layers = nn.ModuleList([clip_layer(c.vision_width, c.vision_heads, c) for _ in range(c.vision_layers)])
        self.post_layernorm = nn.LayerNorm(c.vision_width, eps=c.layer_norm_eps)
        self.visual_projection = nn.Linear(c.vision_width, c.embed_dim, bias=False)

    def forward(self, pixel_values):
        b = pixel_values.shape[0]
        x = pixel_values
        for conv in self.stem:
            x = quick_gelu(conv(x))
        patches = self.patch_embedding(x).flatten(2).transpose(1, 2)
        cls = self.class_embedding.expand(b, 1, -1)
        x = torch.cat([cls, patches], dim=1) + self.position_embedding(self.position_ids)
        x = self.pre_layrnorm(x)
        for layer in self.layers:
            x = layer(x)
        last_hidden_state = x
        pooled = self.post_layernorm(last_hidden_state[:, 0, :])
        return self.visual_projection(pooled), last_hidden_state


def init_blocks(blocks, width):
    """OpenAI CLIP's initialisation (model.py, initialize_parameters) with zero biases. PyTorch's
    default Linear init gives every bias a random value of the weights' size, a component shared by
    all inputs that dwarfs the 0.02-sized token embeddings: captions start at cosine 0.96 from one
    another and collapse to one point within 15 steps, so nothing but colour is ever learnt."""
    attn_std = width ** -0.5
    proj_std = width ** -0.5 * (2 * len(blocks)) ** -0.5
    fc_std = (2 * width) ** -0.5
    for block in blocks:
        for linear, std in ((block.self_attn.q_proj, attn_std), (block.self_attn.k_proj, attn_std), (block.self_attn.v_proj, attn_std),
                            (block.self_attn.out_proj, proj_std), (block.mlp.fc1, fc_std), (block.mlp.fc2, proj_std)):
            nn.init.normal_(linear.weight, std=std)
            nn.init.zeros_(linear.bias)


class Clip(nn.Module):
    def __init__(self, c: ClipConfig):
        super().__init__()
        self.config = c
        self.text_model = TextTower(c)
        self.vision_model = VisionTower(c)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        init_blocks(self.text_model.layers, c.text_width)
        init_blocks(self.vision_model.layers, c.vision_width)
        nn.init.normal_(self.text_model.text_projection.weight, std=c.text_width ** -0.5)
        nn.init.normal_(self.vision_model.visual_projection.weight, std=c.vision_width ** -0.5)

    def forward(self, input_ids, pixel_values):
        text = F.normalize(self.text_model(input_ids)[0], dim=-1)
        image = F.normalize(self.vision_model(pixel_values)[0], dim=-1)
        return text, image
