"""The pre-LayerNorm encoder layer of Hugging Face's CLIP and SigLIP (modeling_clip.py, modeling_siglip.py):
x + self_attn(layer_norm1(x)), then x + mlp(layer_norm2(x)); attention with separate q/k/v/out
projections, each with a bias; a two-layer MLP. The submodules have the Hugging Face names (layer_norm1,
self_attn.q_proj, mlp.fc1, ...), which the exported ONNX initialisers and nodes carry.

What differs between the two models is passed in: the MLP's activation (CLIP's quick_gelu, SigLIP's gelu
with the tanh approximation), the layer-norm epsilon, and where the attention scale is applied."""

import torch
from torch import nn
import torch.nn.functional as F


def quick_gelu(x):
    """CLIP's activation (hidden_act "quick_gelu")."""
    return x * torch.sigmoid(1.702 * x)


def gelu_tanh(x):
    """SigLIP's activation (hidden_act "gelu_pytorch_tanh")."""
    return F.gelu(x, approximate='tanh')


class Attention(nn.Module):
    """Multi-head self-attention, with an additive mask (CLIP's causal text mask) when one is given.

    scale_queries: CLIP multiplies the query projection by head_dim ** -0.5 before the product with the
    keys (CLIPAttention, as OpenAI's CLIP); SigLIP multiplies the scores after it (SiglipAttention). The
    two are equal in exact arithmetic but not in float32, and each model's files were made its own way."""

    def __init__(self, width, heads, scale_queries):
        super().__init__()
        self.heads = heads
        self.head_dim = width // heads
        self.scale = self.head_dim ** -0.5
        self.scale_queries = scale_queries
        self.q_proj = nn.Linear(width, width)
        self.k_proj = nn.Linear(width, width)
        self.v_proj = nn.Linear(width, width)
        self.out_proj = nn.Linear(width, width)

    def forward(self, x, mask=None):
        b, n, d = x.shape

        def split(t):
            return t.view(b, n, self.heads, self.head_dim).transpose(1, 2)

        q = self.q_proj(x)
        if self.scale_queries:
            q = q * self.scale
        q, k, v = split(q), split(self.k_proj(x)), split(self.v_proj(x))
        weights = torch.matmul(q, k.transpose(-1, -2))
        if not self.scale_queries:
            weights = weights * self.scale
        if mask is not None:
            weights = weights + mask
        weights = weights.softmax(dim=-1)
        out = torch.matmul(weights, v).transpose(1, 2).reshape(b, n, d)
        return self.out_proj(out)


class Mlp(nn.Module):
    def __init__(self, width, hidden, activation):
        super().__init__()
        self.activation = activation
        self.fc1 = nn.Linear(width, hidden)
        self.fc2 = nn.Linear(hidden, width)

    def forward(self, x):
        return self.fc2(self.activation(self.fc1(x)))


class EncoderLayer(nn.Module):
    def __init__(self, width, heads, hidden, eps, activation, scale_queries):
        super().__init__()
        self.layer_norm1 = nn.LayerNorm(width, eps=eps)
        self.self_attn = Attention(width, heads, scale_queries)
        self.layer_norm2 = nn.LayerNorm(width, eps=eps)
        self.mlp = Mlp(width, hidden, activation)

    def forward(self, x, mask=None):
        x = x + self.self_attn(self.layer_norm1(x), mask)
        return x + self.mlp(self.layer_norm2(x))
