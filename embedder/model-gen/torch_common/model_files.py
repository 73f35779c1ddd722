"""What the exporters write beside their graphs, and what they read to size them."""

import json

# OpenAI CLIP's image normalisation (CLIPImageProcessor's and open_clip's image_mean / image_std).
OPENAI_MEAN = [0.48145466, 0.4578275, 0.40821073]
OPENAI_STD = [0.26862954, 0.26130258, 0.27577711]


def write_json(path, value, indent=2, ensure_ascii=True):
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(value, f, indent=indent, ensure_ascii=ensure_ascii)
        f.write('\n')


def rounded(tensor):
    """A reference vector as JSON numbers, 8 significant digits (float32's precision)."""
    return [float(f'{v:.8g}') for v in tensor.tolist()]


def tokenizer_vocab_size(tokenizer_json):
    """One more than the largest id the tokenizer.json at that path can produce: the token table's rows."""
    with open(tokenizer_json) as f:
        tokenizer = json.load(f)
    vocab = tokenizer['model']['vocab']
    # Unigram: a list of [piece, score], ids by position; BPE/WordPiece: {piece: id}.
    ids = list(range(len(vocab))) if isinstance(vocab, list) else list(vocab.values())
    ids += [token['id'] for token in tokenizer.get('added_tokens', [])]
    return max(ids) + 1
