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
    p.add_argument('--epochs', type=int, default=10)
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--lr', type=float, default=2e-3)
    p.add_argument('--weight-decay', type=float, default=0.05)
    p.add_argument('--warmup', type=int, default=50)
    p.add_argument('--colours-per-batch', type=int, default=4)
    p.add_argument('--pretrain-epochs', type=int, default=4)
    # One thread: on a shared, loaded machine a second one mostly spins at barriers (measured: twice
    # the CPU time and three times the wall time per step of the same batch).
    p.add_argument('--threads', type=int, default=1)
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
    zero-shot colour, shape and colour+shape (the top prompt names one of the image's objects) and
    text->image recall@1/5 (an image with the caption's objects in the top k)."""
    model.eval()
    images = embed_images(model, pixels)
    objects = [item['objects'] for item in items]
    answers = {
        'colour': [{o['colour'] for o in obs} for obs in objects],
        'shape': [{o['shape'] for o in obs} for obs in objects],
        'colour_shape': [{f"{o['colour']} {o['shape']}" for o in obs} for obs in objects],
    }
    metrics = {}
    for kind, prompts in prompt_ids.items():
        names = list(prompts.keys())
        top = (images @ embed_id_rows(model, [prompts[n] for n in names]).T).argmax(dim=1).tolist()
        metrics[f'zero_shot_{kind}'] = float(np.mean([names[t] in answers[kind][i] for i, t in enumerate(top)]))
    captions = embed_id_rows(model, [item['tokenIds'][0] for item in items])
    ranks = (captions @ images.T).argsort(dim=1, descending=True)
    label_sets = [sorted(labels_of(item)) for item in items]
    for k in (1, 5):
        metrics[f'recall_at_{k}'] = float(np.mean([any(label_sets[j] == label_sets[q] for j in ranks[q, :k].tolist()) for q in range(len(items))]))
    model.train()
    return metrics


def colour_grouped_batches(items, batch, colours_per_batch, rng):
    """Batches of `batch // colours_per_batch` images for each of a few colours (the first object's).
    In random batches colour alone tells most pairs apart, and shape is learnt slowly (measured: colour
    98%, shape 23% zero-shot after 6 epochs); here most negatives of an image's own colour differ from
    it in shape."""
    groups = {}
    for i, item in enumerate(items):
        groups.setdefault(item['objects'][0]['colour'], []).append(i)
    colours = sorted(groups)
    queues = {c: [] for c in colours}
    per = batch // colours_per_batch
    batches = []
    for _ in range(len(items) // batch):
        chosen = []
        for c in rng.sample(colours, colours_per_batch):
            if len(queues[c]) < per:
                refill = groups[c][:]
                rng.shuffle(refill)
                queues[c] += refill
            chosen += queues[c][:per]
            del queues[c][:per]
        batches.append(chosen)
    return batches


def pretrain_vision(model, items, pixels, validation, args, started):
    """A short start for the image tower alone: which colours and which shapes each training image
    shows (multi-label, through a linear head on its embedding that is then thrown away), as CLIP-style
    models often start from a pretrained image tower (LiT, Zhai et al. 2022). From scratch, both towers
    settle within a few steps on the trivial answer (every caption at one point, every prediction
    uniform: loss ln n) for everything the untrained image tower does not already show, which is
    everything but colour (measured: shape zero-shot at chance after 6 epochs)."""
    colours = sorted({o['colour'] for item in items for o in item['objects']})
    shapes = sorted({o['shape'] for item in items for o in item['objects']})
    targets = torch.zeros(len(items), len(colours) + len(shapes))
    for i, item in enumerate(items):
        for o in item['objects']:
            targets[i, colours.index(o['colour'])] = 1
            targets[i, len(colours) + shapes.index(o['shape'])] = 1
    head = torch.nn.Linear(model.config.embed_dim, targets.shape[1])
    optimizer = torch.optim.AdamW(list(model.vision_model.parameters()) + list(head.parameters()), lr=args.lr)
    generator = torch.Generator().manual_seed(args.seed)
    for epoch in range(args.pretrain_epochs):
        order = torch.randperm(len(items), generator=generator).tolist()
        for b in range(len(items) // args.batch):
            batch = order[b * args.batch:(b + 1) * args.batch]
            loss = F.binary_cross_entropy_with_logits(head(model.vision_model(normalise(pixels[batch]))[0]), targets[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if b % 20 == 0:
                print(f'image tower start, epoch {epoch + 1} step {b} loss {loss.item():.3f} {time.time() - started:.0f} s', flush=True)
        with torch.no_grad():
            model.eval()
            val_items, val_pixels = validation
            single = [i for i, item in enumerate(val_items) if len(item['objects']) == 1]
            logits = head(model.vision_model(normalise(val_pixels[single]))[0])
            model.train()
        shape_hits = [shapes[t] == val_items[i]['objects'][0]['shape'] for i, t in zip(single, logits[:, len(colours):].argmax(1).tolist())]
        colour_hits = [colours[t] == val_items[i]['objects'][0]['colour'] for i, t in zip(single, logits[:, :len(colours)].argmax(1).tolist())]
        print(f'image tower start, epoch {epoch + 1}: one-object validation images, colour {np.mean(colour_hits):.3f}, shape {np.mean(shape_hits):.3f}', flush=True)


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
    with open(os.path.join(args.data, 'prompts.json')) as f:
        prompt_ids = json.load(f)

    train_items, train_pixels = splits['train']
    label_keys = [', '.join(labels_of(item)) for item in train_items]
    # Every "colour shape" label that training images show (never a held-out one), as a caption
    # of its own: "a red circle" (UniCL, Yang et al. 2022: image-label and image-text contrast in
    # one space). Each image is contrasted with all of them, its own labels the positives.
    label_names = sorted({l for item in train_items for l in labels_of(item)})
    label_ids = pad_ids([prompt_ids['colour_shape'][name] for name in label_names])
    label_targets = torch.zeros(len(train_items), len(label_names))
    for i, item in enumerate(train_items):
        for l in labels_of(item):
            label_targets[i, label_names.index(l)] = 1 / len(item['objects'])
    model = Clip(config)
    pretrain_vision(model, train_items, train_pixels, splits['validation'], args, started)
    optimizer = torch.optim.AdamW(parameter_groups(model, args.weight_decay), lr=args.lr, betas=(0.9, 0.98), eps=1e-6)
    steps_per_epoch = len(train_items) // args.batch
    sampler = random.Random(args.seed)
    total = steps_per_epoch * args.epochs
    schedule = lambda step: min(1.0, (step + 1) / args.warmup) * 0.5 * (1 + math.cos(math.pi * min(step, total) / total))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    history = []
    step = 0
    for epoch in range(args.epochs):
        epoch_loss = 0.0
        for batch in colour_grouped_batches(train_items, args.batch, args.colours_per_batch, sampler):
            # A different paraphrase of each caption every time the image comes round.
            rows = [train_items[i]['tokenIds'][random.randrange(len(train_items[i]['tokenIds']))] for i in batch]
            text, image = model(pad_ids(rows), normalise(train_pixels[batch]))
            logits = model.logit_scale.exp() * text @ image.T
            # Other images with exactly the same objects are not negatives.
            keys = [label_keys[i] for i in batch]
            same = torch.tensor([[a == c for c in keys] for a in keys]) & ~torch.eye(len(batch), dtype=torch.bool)
            logits = logits.masked_fill(same, float('-inf'))
            target = torch.arange(len(batch))
            # The same loss again within each colour's block of the batch, where colour tells nothing
            # apart: without it the model settles on colour alone and never learns shape (measured:
            # shape zero-shot at chance, "a red circle" and "a red square" at cosine 0.99).
            block = torch.arange(len(batch)) // (args.batch // args.colours_per_batch)
            within = logits.masked_fill(block[:, None] != block[None, :], float('-inf'))
            labels = F.normalize(model.text_model(label_ids)[0], dim=-1)
            label_loss = -(label_targets[batch] * F.log_softmax(model.logit_scale.exp() * image @ labels.T, dim=1)).sum(1).mean()
            loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)
                    + F.cross_entropy(within, target) + F.cross_entropy(within.T, target)) / 4 + label_loss
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
    torch.save(model.state_dict(), os.path.join(args.data, 'model.pt'))
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
