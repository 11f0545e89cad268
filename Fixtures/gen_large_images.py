"""Legitimate images near PIL's pixel cap (Image.MAX_IMAGE_PIXELS = 89,478,485) for the bounded-memory tests
(Tests/ImageTests/LargeImageTests.swift, docs/IMAGES.md): too big to commit (FixtureBudgetTests), so they go to
the git-ignored Fixtures/full/large/, and the tests skip when it is absent. Run: .venv/bin/python
Fixtures/gen_large_images.py (about a minute).

Writes
  baseline_exif6_11184x8000.jpg  baseline JPEG, 4:2:0, EXIF orientation 6 (shown 8000x11184: the streamed
                                 rows are oriented columns), 89,472,000 pixels
  plain_9459x9459.png            non-interlaced 8-bit RGB PNG, 89,472,681 pixels
  progressive_9459x9459.jpg      progressive JPEG: libjpeg's coefficients alone are over the 256 MiB budget
  large.json                     per file: the sha256 of timm's eval transform as uint8 [3, 224, 224]
                                 (bilinear, crop 0.875, mean 0, std 1) of ImageOps.exif_transpose(...).convert("RGB")
"""
import hashlib
import json
import os

import numpy as np
from PIL import Image, ImageOps
from timm.data.transforms_factory import transforms_imagenet_eval

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "full", "large")


def card(w, h):
    """Gradients, a fine diagonal texture and a checkerboard: detail at every scale, yet compressible."""
    y, x = np.ogrid[0:h, 0:w]
    r = (x * 255 // max(1, w - 1) + 0 * y).astype(np.uint8)
    g = (y * 255 // max(1, h - 1) + 0 * x).astype(np.uint8)
    b = (((x // 37 + y // 53) % 2) * 160 + ((x + 2 * y) % 23) * 4).astype(np.uint8)
    return Image.fromarray(np.stack([r, g, b], axis=-1), "RGB")


def reference(path):
    t = transforms_imagenet_eval(img_size=224, crop_pct=0.875, crop_mode="center", interpolation="bilinear",
                                 mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    with Image.open(path) as im:
        x = t(ImageOps.exif_transpose(im).convert("RGB")).numpy()
    u = np.round(x * 255).astype(np.uint8)
    assert np.array_equal(u.astype(np.float32) / 255, x), path
    return hashlib.sha256(u.tobytes()).hexdigest()


def main():
    Image.MAX_IMAGE_PIXELS = None
    os.makedirs(OUT, exist_ok=True)
    exif = Image.Exif()
    exif[0x0112] = 6
    files = {}
    name = "baseline_exif6_11184x8000.jpg"
    card(11184, 8000).save(os.path.join(OUT, name), quality=90, subsampling=2, exif=exif.tobytes())
    files[name] = dict(pixels=11184 * 8000, orientation=6)
    name = "plain_9459x9459.png"
    card(9459, 9459).save(os.path.join(OUT, name), compress_level=6)
    files[name] = dict(pixels=9459 * 9459, orientation=1)
    name = "progressive_9459x9459.jpg"
    card(9459, 9459).save(os.path.join(OUT, name), quality=90, progressive=True)
    files[name] = dict(pixels=9459 * 9459, orientation=1)
    for name, record in files.items():
        record["bytes"] = os.path.getsize(os.path.join(OUT, name))
        record["bilinear224_sha256"] = reference(os.path.join(OUT, name))
        print(name, record)
    with open(os.path.join(OUT, "large.json"), "w") as f:
        json.dump(dict(pillow=Image.__version__, files=files), f, indent=1)


if __name__ == "__main__":
    main()
