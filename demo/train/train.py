"""Trains the demo CLIP contrastively on the rendered training split and exports it in the
Hugging Face / Xenova ONNX layout that the embedder's loadClip reads.

    python3 demo/train/train.py [--data .demo-data] [--out demo/model] [--seed 0] [--epochs 8]

Reads what `tsx demo/train/prepare.ts` wrote: <data>/{train,validation,heldout}/items.jsonl
(captions with their CLIP token ids, from the project's tokenizer) and the JPEGs beside them, and
the tokenizer files already in <out>. Writes into <out>: onnx/text_model.onnx,
onnx/vision_model.onnx, config.json, preprocessor_config.json, and training.json (settings, the
per-epoch PyTorch metrics and reference embeddings that `npm run demo:eval` checks the served
model against). Needs only python3-torch, python3-onnx, python3-pil and python3-numpy (Debian 12).
"""

import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clip_model import Clip, ClipConfig  # noqa: E402
from export import export_model  # noqa: E402

OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)
EOT = 49407


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', default='.demo-data')
    p.add_argument('--out', default='demo/model')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--epochs', type=int, default=6)
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--lr', type=float, default=2e-3)
    p.add_argument('--weight-decay', type=float, default=0.05)
    p.add_argument('--warmup', type=int, default=30)
    p.add_argument('--threads', type=int, default=2)
    return p.parse_args()


def read_items(split_dir):
    with open(os.path.join(split_dir, 'items.jsonl')) as f:
        return [json.loads(line) for line in f if line.strip()]


def load_pixels(split_dir, items, size):
    """uint8 [N, 3, size, size]: PIL convert('RGB'), bicubic resize of the shortest edge to `size` and a
    centre crop, as Hugging Face's CLIPImageProcessor (and the embedder) preprocess."""
    out = np.empty((len(items), 3, size, size), dtype=np.uint8)
    for i, item in enumerate(items):
        image = Image.open(os.path.join(split_dir, item['path'])).convert('RGB')
        w, h = image.size
        short = min(w, h)
        rw, rh = (size, int(size * h / w)) if w == short else (int(size * w / h), size)
        image = image.resize((rw, rh), Image.BICUBIC)
        left, top = (rw - size) // 2, (rh - size) // 2
        image = image.crop((left, top, left + size, top + size))
        out[i] = np.asarray(image, dtype=np.uint8).transpose(2, 0, 1)
    return torch.from_numpy(out)


MEAN = torch.tensor(OPENAI_MEAN).view(1, 3, 1, 1)
STD = torch.tensor(OPENAI_STD).view(1, 3, 1, 1)


def normalise(pixels_u8):
    x = (pixels_u8.double() * (1 / 255)).float()
    return (x - MEAN) / STD


def pad_ids(rows):
    """Right-padded with <|endoftext|>, to the longest row, as the embedder pads a batch."""
    n = max(len(r) for r in rows)
    return torch.tensor([r + [EOT] * (n - len(r)) for r in rows], dtype=torch.long)


def labels_of(item):
    return [f"{o['colour']} {o['shape']}" for o in item['objects']]


@torch.no_grad()
def embed_images(model, pixels, batch=256):
    return torch.cat([F.normalize(model.vision_model(normalise(pixels[i:i + batch]))[0], dim=-1) for i in range(0, len(pixels), batch)])


@torch.no_grad()
def embed_id_rows(model, rows, batch=256):
    return torch.cat([F.normalize(model.text_model(pad_ids(rows[i:i + batch]))[0], dim=-1) for i in range(0, len(rows), batch)])


@torch.no_grad()
def evaluate(model, items, pixels, prompt_ids):
    """The PyTorch-side metrics (the published ones are `npm run demo:eval`'s, through loadClip):
    zero-shot colour+shape (top label among every "a <colour> <shape>" is one of the image's
    labels) and text->image recall@1/5 (an image with the caption's labels in the top k)."""
    model.eval()
    images = embed_images(model, pixels)
    labels = list(prompt_ids.keys())
    prompts = embed_id_rows(model, [prompt_ids[l] for l in labels])
    top = (images @ prompts.T).argmax(dim=1)
    zero_shot = np.mean([labels[top[i]] in labels_of(item) for i, item in enumerate(items)])
    captions = embed_id_rows(model, [item['tokenIds'][0] for item in items])
    ranks = (captions @ images.T).argsort(dim=1, descending=True)
    label_sets = [sorted(labels_of(item)) for item in items]
    hits = {1: 0, 5: 0}
    for q in range(len(items)):
        for k in hits:
            if any(label_sets[j] == label_sets[q] for j in ranks[q, :k].tolist()):
                hits[k] += 1
    model.train()
    return {'zero_shot_colour_shape': float(zero_shot), 'recall_at_1': hits[1] / len(items), 'recall_at_5': hits[5] / len(items)}


def parameter_groups(model, weight_decay):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (decay if p.ndim >= 2 and 'embedding' not in name else no_decay).append(p)
    return [{'params': decay, 'weight_decay': weight_decay}, {'params': no_decay, 'weight_decay': 0.0}]


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    config = ClipConfig(
        text_width=64, text_layers=2, text_heads=4,
        image_size=64, vision_stem=(16, 32, 64), patch_size=2, vision_width=96, vision_layers=2, vision_heads=4,
        embed_dim=64,
    )
    started = time.time()
    splits = {}
    for split in ('train', 'validation', 'heldout'):
        split_dir = os.path.join(args.data, split)
        items = read_items(split_dir)
        splits[split] = (items, load_pixels(split_dir, items, config.image_size))
    print(f"loaded {', '.join(f'{s}: {len(v[0])}' for s, v in splits.items())} in {time.time() - started:.0f} s", flush=True)
    prompt_ids = {}
    with open(os.path.join(args.data, 'prompts.json')) as f:
        prompt_ids = json.load(f)['colour_shape']

    train_items, train_pixels = splits['train']
    label_keys = [', '.join(labels_of(item)) for item in train_items]
    model = Clip(config)
    optimizer = torch.optim.AdamW(parameter_groups(model, args.weight_decay), lr=args.lr, betas=(0.9, 0.98), eps=1e-6)
    steps_per_epoch = len(train_items) // args.batch
    total = steps_per_epoch * args.epochs
    schedule = lambda step: min(1.0, (step + 1) / args.warmup) * 0.5 * (1 + math.cos(math.pi * min(step, total) / total))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    generator = torch.Generator().manual_seed(args.seed)
    history = []
    step = 0
    for epoch in range(args.epochs):
        order = torch.randperm(len(train_items), generator=generator).tolist()
        epoch_loss = 0.0
        for b in range(steps_per_epoch):
            batch = order[b * args.batch:(b + 1) * args.batch]
            # A different paraphrase of each caption every time the image comes round.
            rows = [train_items[i]['tokenIds'][random.randrange(len(train_items[i]['tokenIds']))] for i in batch]
            text, image = model(pad_ids(rows), normalise(train_pixels[batch]))
            logits = model.logit_scale.exp() * text @ image.T
            # Other images with exactly the same objects are not negatives.
            keys = [label_keys[i] for i in batch]
            same = torch.tensor([[a == c for c in keys] for a in keys]) & ~torch.eye(len(batch), dtype=torch.bool)
            logits = logits.masked_fill(same, float('-inf'))
            target = torch.arange(len(batch))
            loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            with torch.no_grad():
                model.logit_scale.clamp_(0, math.log(100))
            epoch_loss += loss.item()
            step += 1
            if step % 20 == 0:
                print(f'epoch {epoch + 1} step {step}/{total} loss {loss.item():.3f} scale {model.logit_scale.exp().item():.1f} '
                      f'{time.time() - started:.0f} s', flush=True)
        metrics = {s: evaluate(model, *splits[s], prompt_ids) for s in ('validation', 'heldout')}
        history.append({'epoch': epoch + 1, 'loss': epoch_loss / steps_per_epoch, 'seconds': round(time.time() - started), **metrics})
        print(json.dumps(history[-1]), flush=True)

    model.eval()
    export_model(model, args.out, {
        'command': ' '.join(['python3'] + sys.argv),
        'seed': args.seed,
        'data': json.load(open(os.path.join(args.data, 'settings.json'))),
        'settings': {k: v for k, v in vars(args).items()},
        'history': history,
        'seconds': round(time.time() - started),
    }, splits['validation'], normalise)
    print(f'exported to {args.out} in {time.time() - started:.0f} s total', flush=True)


if __name__ == '__main__':
    main()
