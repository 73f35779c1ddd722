"""PyTorch and ONNX helpers shared by the project's offline Python exporters: the demo CLIP trainer
(demo/train/), the SigLIP fixtures (embedder/model-gen/families/) and the multilingual CLIP fixture
(embedder/model-gen/families/multilingual/). Written from the published architectures, sharing no code
with the TypeScript embedder, which these models check.

A script imports it after putting embedder/model-gen on sys.path (from demo/train/, for example):

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'embedder', 'model-gen'))
    from torch_common.transformer import EncoderLayer

transformer.py: CLIP's and SigLIP's pre-LayerNorm encoder layer. onnx_export.py: torch.onnx.export as
the exporters call it, a tower under its whole-model name, the float16 token table. model_files.py:
JSON files, reference vectors, a tokenizer's vocabulary size, OpenAI CLIP's normalisation.
"""
