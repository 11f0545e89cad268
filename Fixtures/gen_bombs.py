"""Decompression bombs for the image decoder (issue 20): small files whose headers declare a 13000x13000 image.

Writes only Fixtures/tiny/bombs/ (never touches other fixtures). Deterministic: fixed seeds, no timestamps.
  png_rgba16_13000.png   a 42x34 RGBA 16-bit PNG (noise, so it does not compress away) whose IHDR is patched to
                         13000x13000 (CRC fixed): libpng would size 13000 rows of 208,000 bytes.
  jpeg_baseline_13000.jpg  a 64x64 baseline JPEG whose SOF0 is patched to 13000x13000.
  jpeg_progressive_13000.jpg  the same, progressive (SOF2): libjpeg keeps every coefficient of the whole image.
That is how such files are made: an encoder writes a small image, then the header's size fields are rewritten.
Run with: .venv/bin/python Fixtures/gen_bombs.py
"""
import io
import os
import struct
import zlib

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "tiny", "bombs")
SIDE = 13000


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb() -> bytes:
    rng = np.random.default_rng(20)
    w, h = 42, 34
    pixels = rng.integers(0, 65536, size=(h, w, 4), dtype=np.uint16).astype(">u2")
    raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(h))
    ihdr = struct.pack(">IIBBBBB", SIDE, SIDE, 16, 6, 0, 0, 0)  # declared size: the bomb
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def patch_sof(data: bytes, marker: int) -> bytes:
    """Rewrites the height and width of the first SOF segment with `marker` to SIDE x SIDE."""
    b = bytearray(data)
    i = 2
    while i + 4 <= len(b):
        assert b[i] == 0xFF, f"marker expected at {i}"
        m = b[i + 1]
        length = struct.unpack(">H", b[i + 2:i + 4])[0]
        if m == marker:
            b[i + 5:i + 9] = struct.pack(">HH", SIDE, SIDE)
            return bytes(b)
        i += 2 + length
    raise ValueError(f"no SOF marker {marker:#x}")


def jpeg_bomb(progressive: bool) -> bytes:
    rng = np.random.default_rng(21 if progressive else 22)
    image = Image.fromarray(rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8), "RGB")
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=75, progressive=progressive, optimize=False)
    return patch_sof(buf.getvalue(), 0xC2 if progressive else 0xC0)


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    files = {
        "png_rgba16_13000.png": png_bomb(),
        "jpeg_baseline_13000.jpg": jpeg_bomb(False),
        "jpeg_progressive_13000.jpg": jpeg_bomb(True),
    }
    for name, data in files.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
