"""SigLIP in PyTorch, written from the architecture of Hugging Face's SiglipModel (modeling_siglip.py,
transformers 4.37+) and nothing else, so that the embedder's SigLIP support is checked against an
implementation it shares no code with. The fixed-resolution SigLIP 2 checkpoints (google/siglip2-*-patchN-S,
onnx-community/siglip2-*-ONNX) are this same architecture with Gemma's tokenizer and vocabulary.

- Vision: a patch embedding (Conv2d with bias, no class token, no pre-norm) plus learned position
  embeddings, pre-LN encoder blocks (separate q/k/v/out projections with bias, MLP with gelu tanh),
  post_layernorm, then the multihead attention pooling head: one learned probe attends over the patches
  (torch's nn.MultiheadAttention), its result goes through layernorm + MLP with a residual, and row 0 is
  the pooled output.
- Text: token + position embeddings, the same encoder blocks without a mask (SigLIP reads its padding),
  final_layer_norm, the last position pooled (last_hidden_state[:, -1, :]) and a linear head to the
  vision width.
- Scoring: logits = exp(logit_scale) * cos + logit_bias, read through a sigmoid.

The encoder layer is ../torch_common/transformer.py's, which the demo CLIP shares (here with gelu tanh
and the scores scaled after the product, as SiglipAttention).
"""

import os
import sys
from dataclasses import dataclass, asdict

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from torch_common.transformer import EncoderLayer, Mlp, gelu_tanh  # noqa: E402


@dataclass
class SiglipConfig:
    vocab_size: int = 32000
    max_position_embeddings: int = 64
    text_width: int = 32
    text_layers: int = 2
    text_heads: int = 2
    text_intermediate: int = 64
    image_size: int = 224
    patch_size: int = 16
    vision_width: int = 32
    vision_layers: int = 2
    vision_heads: int = 2
    vision_intermediate: int = 64
    layer_norm_eps: float = 1e-6

    def to_dict(self):
        return asdict(self)


def siglip_layer(width, heads, hidden, c: SiglipConfig):
    return EncoderLayer(width, heads, hidden, c.layer_norm_eps, activation=gelu_tanh, scale_queries=False)


class TextTransformer(nn.Module):
    def __init__(self, c: SiglipConfig):
        super().__init__()
        self.token_embedding = nn.Embedding(c.vocab_size, c.text_width)
        self.position_embedding = nn.Embedding(c.max_position_embeddings, c.text_width)
        self.layers = nn.ModuleList([siglip_layer(c.text_width, c.text_heads, c.text_intermediate, c) for _ in range(c.text_layers)])
        self.final_layer_norm = nn.LayerNorm(c.text_width, eps=c.layer_norm_eps)
        self.head = nn.Linear(c.text_width, c.vision_width)

    def forward(self, input_ids):
        n = input_ids.shape[1]
        positions = torch.arange(n, device=input_ids.device).unsqueeze(0)
        x = self.token_embedding(input_ids) + self.position_embedding(positions)
        for layer in self.layers:
            x = layer(x)
        last_hidden_state = self.final_layer_norm(x)
        pooled = self.head(last_hidden_state[:, -1, :])
        return pooled, last_hidden_state


class AttentionPoolingHead(nn.Module):
    def __init__(self, c: SiglipConfig):
        super().__init__()
        self.probe = nn.Parameter(torch.randn(1, 1, c.vision_width))
        self.attention = nn.MultiheadAttention(c.vision_width, c.vision_heads, batch_first=True)
        self.layernorm = nn.LayerNorm(c.vision_width, eps=c.layer_norm_eps)
        self.mlp = Mlp(c.vision_width, c.vision_intermediate, gelu_tanh)

    def forward(self, x):
        probe = self.probe.repeat(x.shape[0], 1, 1)
        x = self.attention(probe, x, x, need_weights=False)[0]
        x = x + self.mlp(self.layernorm(x))
        return x[:, 0]


class VisionTransformer(nn.Module):
    def __init__(self, c: SiglipConfig):
        super().__init__()
        self.patch_embedding = nn.Conv2d(3, c.vision_width, kernel_size=c.patch_size, stride=c.patch_size)
        patches = (c.image_size // c.patch_size) ** 2
        self.position_embedding = nn.Embedding(patches, c.vision_width)
        self.register_buffer('position_ids', torch.arange(patches).unsqueeze(0), persistent=False)
        self.layers = nn.ModuleList([siglip_layer(c.vision_width, c.vision_heads, c.vision_intermediate, c) for _ in range(c.vision_layers)])
        self.post_layernorm = nn.LayerNorm(c.vision_width, eps=c.layer_norm_eps)
        self.head = AttentionPoolingHead(c)

    def forward(self, pixel_values):
        x = self.patch_embedding(pixel_values).flatten(2).transpose(1, 2)
        x = x + self.position_embedding(self.position_ids)
        for layer in self.layers:
            x = layer(x)
        last_hidden_state = self.post_layernorm(x)
        return self.head(last_hidden_state), last_hidden_state


class SiglipModel(nn.Module):
    def __init__(self, c: SiglipConfig, logit_scale: float, logit_bias: float):
        super().__init__()
        self.config = c
        self.text_model = TextTransformer(c)
        self.vision_model = VisionTransformer(c)
        self.logit_scale = nn.Parameter(torch.tensor([logit_scale]))
        self.logit_bias = nn.Parameter(torch.tensor([logit_bias]))

    def logits_per_text(self, text_embeds, image_embeds):
        """Sigmoid logits of unit-norm embeddings, texts x images."""
        return text_embeds @ image_embeds.t() * self.logit_scale.exp() + self.logit_bias


def randomise(model: SiglipModel, seed: int):
    """Random weights with activations of a trained model's order of magnitude, so that every text and
    image lands somewhere else (the initialisers of nn.Linear alone give near-identical pooled rows)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name in ('logit_scale', 'logit_bias'):
                continue
            if 'norm' in name and name.endswith('weight'):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=generator))
            elif name.endswith('bias'):
                p.copy_(0.1 * torch.randn(p.shape, generator=generator))
            elif 'token_embedding' in name or 'position_embedding' in name or name.endswith('probe'):
                p.copy_(torch.randn(p.shape, generator=generator))
            else:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=generator) * (1.5 / fan_in ** 0.5))
