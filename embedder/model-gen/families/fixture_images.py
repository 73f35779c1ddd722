"""The input images of the family fixtures (test/fixtures/families/images/), drawn and saved by Pillow, and
Hugging Face's SiglipImageProcessor pipeline on PIL, which the references are computed with."""

import os

import numpy as np
from PIL import Image, ImageDraw, ImageOps

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
IMAGES = os.path.join(ROOT, 'test', 'fixtures', 'families', 'images')


def pattern(width, height, seed):
    """Gradients, hard edges and noise, so that every resampling tap matters."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    edge = (((x >> 3) + (y >> 3)) & 1) * 60
    rgb = np.stack([x * 180 / max(1, width - 1) + edge, y * 180 / max(1, height - 1), ((x * y) & 255) * 0.5 + edge * 2], -1)
    return np.clip(rgb + rng.uniform(0, 40, rgb.shape), 0, 255).astype(np.uint8)


def _landscape(path):
    image = Image.fromarray(pattern(640, 427, 1))
    ImageDraw.Draw(image).ellipse((200, 100, 420, 330), fill=(240, 200, 30))
    image.save(path, quality=90)


def _rotated(path):
    exif = Image.Exif()
    exif[0x0112] = 6  # stored 300 x 451, shown 451 x 300
    Image.fromarray(pattern(300, 451, 2)).save(path, quality=85, exif=exif.tobytes())


def _progressive(path):
    Image.fromarray(pattern(400, 300, 5)).save(path, quality=95, subsampling=0, progressive=True)


def _small_rgba(path):
    alpha = np.tile(np.linspace(0, 255, 97).astype(np.uint8), (61, 1))[..., None]
    Image.fromarray(np.concatenate([pattern(97, 61, 3), alpha], -1), 'RGBA').save(path)


def _grey(path):
    Image.fromarray(pattern(260, 180, 4)[..., 1], 'L').save(path)


def _palette(path):
    Image.fromarray(pattern(150, 150, 6)).quantize(colors=64).save(path)


def _square(path):
    Image.fromarray(pattern(224, 224, 7)).save(path)


def _thin(path):
    Image.fromarray(pattern(3, 500, 8)).save(path)


# name -> how it is drawn. Photo-sized and small, JPEG (baseline 4:2:0, EXIF-rotated, progressive 4:4:4)
# and PNG (RGBA, grey, palette), already at 224 x 224, and 3 pixels wide.
DRAWINGS = {
    'landscape.jpg': _landscape,
    'rotated_exif6.jpg': _rotated,
    'progressive444.jpg': _progressive,
    'small_rgba.png': _small_rgba,
    'grey.png': _grey,
    'palette.png': _palette,
    'square224.png': _square,
    'thin.png': _thin,
}


def draw_images(directory=IMAGES):
    """Writes the images that are not there yet (committed files are kept byte for byte); returns their names."""
    os.makedirs(directory, exist_ok=True)
    for name, draw in DRAWINGS.items():
        path = os.path.join(directory, name)
        if not os.path.exists(path):
            draw(path)
    return list(DRAWINGS)


def preprocess_siglip(path, size, resample):
    """Hugging Face's SiglipImageProcessor on PIL (transformers 4.x), after the project's convention of
    applying the EXIF orientation first: convert("RGB"), PIL resize straight to size x size (no crop),
    x * (1/255) in float64 then float32, (x - 0.5) / 0.5 in float32, HWC -> CHW."""
    image = ImageOps.exif_transpose(Image.open(path))
    if image.mode != 'RGB':
        image = image.convert('RGB')
    resized = np.asarray(image.resize((size, size), resample=resample))
    x = (resized.astype(np.float64) * (1 / 255)).astype(np.float32)
    x = (x - np.float32(0.5)) / np.float32(0.5)
    return np.ascontiguousarray(x.transpose(2, 0, 1))
