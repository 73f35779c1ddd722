"""Reference digests of SigLIP's preprocessing (resize straight to a square, no crop) on the fixture images,
computed by Pillow: test/fixtures/families/direct-resize.json, which test/embedder/preprocess-direct-resize.test.ts
compares the embedder's tensors with.

  nice /usr/bin/python3 embedder/model-gen/families/pillow_direct_resize.py
"""

import hashlib
import json
import os
import sys

import numpy as np
import PIL
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_images import IMAGES, draw_images, preprocess_siglip  # noqa: E402

# (side, PIL filter, transformers' resample code)
TARGETS = [(224, Image.BICUBIC, 3), (224, Image.BILINEAR, 2), (384, Image.BILINEAR, 2), (256, Image.LANCZOS, 1)]


def main():
    cases = []
    for name in draw_images():
        for side, pil_filter, code in TARGETS:
            tensor = preprocess_siglip(os.path.join(IMAGES, name), side, pil_filter).astype('<f4')
            cases.append({'file': f'images/{name}', 'size': side, 'resample': code, 'sha256': hashlib.sha256(tensor.tobytes()).hexdigest(),
                          'mean': float(np.float64(tensor.mean()))})
    out = os.path.join(os.path.dirname(IMAGES), 'direct-resize.json')
    with open(out, 'w') as f:
        json.dump({
            'pipeline': 'EXIF transpose, convert("RGB"), PIL resize((size, size), resample), x * (1/255) float64 -> float32, '
                        '(x - 0.5) / 0.5 float32, CHW; sha256 of the little-endian float32 tensor',
            'pillow': PIL.__version__, 'numpy': np.__version__,
            'cases': cases,
        }, f, indent=2)
        f.write('\n')


if __name__ == '__main__':
    main()
