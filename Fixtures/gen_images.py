#!/usr/bin/env python3
"""Image fixtures for TResNetImage: synthetic test images in every JPEG/PNG flavour the decoder must handle, and
what PIL + timm's eval transform make of them. Called from generate.py (after tiny_v1.pth is written) or run alone:

    python Fixtures/gen_images.py      # -> Fixtures/tiny/images/, Fixtures/tiny/imagefolder/

Writes
  images/<name>.<ext>             the test images (plus one truncated JPEG and one truncated PNG)
  images/ref/<name>.<policy>.npy  the transform's output tensor [3, H, W], stored losslessly as uint8 (then packed
                                  into images/ref.npz by compress_references.py, members named <name>.<policy>): the
                                  generator asserts tensor == uint8 / 255 exactly (ToTensor divides by 255
                                  and mean 0 / std 1 leave the values as they are)
  images/images.json              per image: how it was made, the decoded RGB size and the sha256 of PIL's
                                  decoded RGB pixels (HWC, after EXIF transpose), the reference files; per policy
                                  the exact timm call; the tiny model's logits and top-5 on the bilinear references
  imagefolder/<class>/*           a small ImageFolder (3 classes, one corrupt file, one non-image file)
  imagefolder.expected.json       the PyTorch validation run on it (per image top-5, top-1/top-5 counts)

The reference loader is `ImageOps.exif_transpose(Image.open(p)).convert("RGB")`. timm's own dataset loader
(`Image.open(f).convert("RGB")`) ignores EXIF orientation; tresnet-kit honours it, so the reference does too.
"""
import hashlib
import json
import os
import shutil
import struct
import sys
import zlib

import numpy as np
import torch
from PIL import Image, ImageOps, features as pil_features
import PIL
import timm
import torchvision
from timm.data.transforms_factory import transforms_imagenet_eval
from timm.models.tresnet import TResNet

HERE = os.path.dirname(os.path.abspath(__file__))
TINY_V1 = dict(layers=[1, 2, 2, 1], width_factor=0.0625, v2=False, num_classes=10)  # = generate.TINY["tiny_v1"]

# The preprocessing policies the references are made with. `squash` with crop_pct 1.0 is the official MIIL
# 448 policy (Resize((S, S)), no crop) at a small size.
POLICIES = {
    "bilinear64": dict(img_size=64, crop_pct=0.875, crop_mode="center", interpolation="bilinear"),
    "bicubic40": dict(img_size=40, crop_pct=0.9, crop_mode="center", interpolation="bicubic"),
    "squish32": dict(img_size=32, crop_pct=1.0, crop_mode="squash", interpolation="bilinear"),
    "squish32bicubic": dict(img_size=32, crop_pct=1.0, crop_mode="squash", interpolation="bicubic"),
    # crop_pct > 1: the resize is smaller than the crop, torchvision's CenterCrop pads with zeros
    "pad24bicubic": dict(img_size=24, crop_pct=1.25, crop_mode="center", interpolation="bicubic"),
}
MODEL_POLICY = "bilinear64"


def transform(policy):
    p = POLICIES[policy]
    return transforms_imagenet_eval(img_size=p["img_size"], crop_pct=p["crop_pct"], crop_mode=p["crop_mode"],
                                    interpolation=p["interpolation"], mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))


def load_rgb(path):
    with Image.open(path) as im:
        return ImageOps.exif_transpose(im).convert("RGB")


# ---------------------------------------------------------------------------------------------------------------
# Synthetic content: smooth gradients + sinusoids + hard edges + noise.

def synth(w, h, seed, noise=8.0):
    r = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    chans = []
    for _ in range(3):
        a, b = r.uniform(-1.5, 1.5, size=2)
        fx, fy, ph = r.uniform(0.05, 0.4), r.uniform(0.05, 0.4), r.uniform(0, 2 * np.pi)
        c = 128 + a * (x - w / 2) * 180 / w + b * (y - h / 2) * 180 / h + 50 * np.sin(fx * x + fy * y + ph)
        chans.append(c)
    img = np.stack(chans, axis=-1)
    # hard edges: a bright rectangle, a dark disc and a diagonal step
    x0, y0 = r.integers(0, max(1, w // 2)), r.integers(0, max(1, h // 2))
    img[y0:y0 + h // 3, x0:x0 + w // 3] = r.uniform(200, 255, size=3)
    cx, cy, rad = r.uniform(0, w), r.uniform(0, h), r.uniform(min(w, h) / 8, min(w, h) / 3)
    img[(x - cx) ** 2 + (y - cy) ** 2 < rad ** 2] = r.uniform(0, 50, size=3)
    img[x + 2 * y < r.uniform(0, w)] *= 0.4
    img += r.normal(0.0, noise, size=img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------------------------------------------
# A minimal PNG writer for what PIL cannot write (16-bit RGB/RGBA/LA, Adam7 interlace).

def _chunk(tag, data):
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def write_png(path, samples, color_type, bit_depth, interlace=False, palette=None):
    """samples: [H, W, C] unsigned ints (uint8 or uint16) in PNG sample order; below 8 bits, one sample per
    pixel (gray or palette index), packed here."""
    h, w = samples.shape[:2]
    dt = ">u2" if bit_depth == 16 else "u1"
    arr = samples.astype(dt)

    def pack(row):
        if bit_depth >= 8:
            return row.tobytes()
        per = 8 // bit_depth
        vals = list(row.reshape(-1)) + [0] * (-len(row.reshape(-1)) % per)
        return bytes(sum(int(v) << (8 - bit_depth * (k + 1)) for k, v in enumerate(vals[i:i + per]))
                     for i in range(0, len(vals), per))

    def rows(a):
        return b"".join(b"\x00" + pack(a[i]) for i in range(a.shape[0]))

    if interlace:
        raw = b""
        for x0, y0, dx, dy in [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
                               (0, 1, 1, 2)]:
            sub = arr[y0::dy, x0::dx]
            if sub.shape[0] and sub.shape[1]:
                raw += rows(sub)
    else:
        raw = rows(arr)
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 1 if interlace else 0)
    plte = _chunk(b"PLTE", bytes(palette)) if palette is not None else b""
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + plte + _chunk(b"IDAT", zlib.compress(raw, 9))
                + _chunk(b"IEND", b""))


def make_edge_pngs(out):
    """Small PNG corner cases checked by their decoded pixels only (no tensors): [(name, description)]."""
    os.makedirs(out)
    r = np.random.default_rng(51)
    cases = [
        ("short_palette_10x3.png", r.integers(0, 10, (3, 10, 1)), 3, 8, dict(palette=list(range(10, 130, 10))),
         "8-bit palette of 4 entries, indices up to 9 (PIL: black past the palette)"),
        ("palette1_13x5.png", r.integers(0, 2, (5, 13, 1)), 3, 1, dict(palette=[200, 10, 30, 5, 90, 250]),
         "1-bit palette"),
        ("palette2_interlaced_11x9.png", r.integers(0, 4, (9, 11, 1)), 3, 2,
         dict(palette=list(r.integers(0, 256, 12)), interlace=True), "2-bit palette, Adam7"),
        ("gray2_9x4.png", r.integers(0, 4, (4, 9, 1)), 0, 2, {}, "2-bit gray (PIL L;2 scales by 85)"),
        ("gray4_interlaced_17x6.png", r.integers(0, 16, (6, 17, 1)), 0, 4, dict(interlace=True),
         "4-bit gray, Adam7 (PIL L;4 scales by 17)"),
        ("gray_alpha16_7x5.png", r.integers(0, 65536, (5, 7, 2)), 4, 16, {}, "16-bit gray + alpha (high byte)"),
        ("gray16_low_6x4.png", r.integers(0, 300, (4, 6, 1)), 0, 16, {}, "16-bit gray mostly below 256"),
    ]
    made = []
    for name, samples, ct, bits, kw, desc in cases:
        write_png(os.path.join(out, name), samples, ct, bits, **kw)
        made.append((name, desc))
    return made


def exif_orientation(value):
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


# ---------------------------------------------------------------------------------------------------------------

def make_images(out):
    """Writes the test images; returns [(name, description)] in order."""
    made = []

    def jpeg(name, arr_or_img, desc, **kw):
        img = arr_or_img if isinstance(arr_or_img, Image.Image) else Image.fromarray(arr_or_img)
        img.save(os.path.join(out, name), "JPEG", **kw)
        made.append((name, desc))

    def pil_png(name, img, desc, **kw):
        img.save(os.path.join(out, name), "PNG", **kw)
        made.append((name, desc))

    def raw_png(name, samples, ct, bits, desc, interlace=False):
        write_png(os.path.join(out, name), samples, ct, bits, interlace)
        made.append((name, desc))

    jpeg("baseline_97x75.jpg", synth(97, 75, 1), "JPEG baseline 4:2:0 q90, odd landscape", quality=90)
    jpeg("progressive_80x120.jpg", synth(80, 120, 2), "JPEG progressive 4:2:0 q85, portrait",
         quality=85, progressive=True)
    jpeg("yuv444_70x50.jpg", synth(70, 50, 3), "JPEG baseline 4:4:4 q92, small (upsampled by the resize)",
         quality=92, subsampling=0)
    jpeg("yuv422_101x77.jpg", synth(101, 77, 4), "JPEG baseline 4:2:2 q80, odd", quality=80, subsampling=1)
    jpeg("gray_75x91.jpg", Image.fromarray(synth(75, 91, 5)).convert("L"), "JPEG grayscale (1 component)",
         quality=90)
    cmyk = np.random.default_rng(6)
    base = synth(88, 66, 6)
    k = np.clip(base[..., 0].astype(np.int32) // 2 + cmyk.integers(0, 40, size=base.shape[:2]), 0, 255)
    arr = np.concatenate([255 - base, k[..., None].astype(np.uint8)], axis=-1)
    jpeg("cmyk_88x66.jpg", Image.fromarray(arr, mode="CMYK"), "JPEG CMYK (Adobe, inverted as PIL writes it)",
         quality=90)
    jpeg("exif6_100x64.jpg", synth(100, 64, 7), "JPEG with EXIF orientation 6 (rotate 270)", quality=90,
         exif=exif_orientation(6))
    jpeg("exif8_60x84.jpg", synth(60, 84, 8), "JPEG with EXIF orientation 8 (rotate 90)", quality=90,
         exif=exif_orientation(8))
    jpeg("exif3_78x66.jpg", synth(78, 66, 9), "JPEG progressive with EXIF orientation 3 (rotate 180)",
         quality=90, progressive=True, exif=exif_orientation(3))

    pil_png("rgb8_90x70.png", Image.fromarray(synth(90, 70, 10, noise=3)), "PNG 8-bit RGB")
    rgba = np.concatenate([synth(56, 69, 11, noise=4), synth(56, 69, 12, noise=4)[..., :1]], axis=-1)
    pil_png("rgba8_56x69.png", Image.fromarray(rgba, mode="RGBA"), "PNG 8-bit RGBA (alpha dropped)")
    pal = Image.fromarray(synth(72, 72, 13, noise=3)).quantize(colors=200)
    pil_png("palette8_72x72.png", pal, "PNG 8-bit palette with tRNS", transparency=5)
    pal4 = Image.fromarray(synth(83, 57, 14, noise=2)).quantize(colors=16)
    pil_png("palette4_83x57.png", pal4, "PNG 4-bit palette", bits=4)
    pil_png("gray8_45x61.png", Image.fromarray(synth(45, 61, 15)).convert("L"), "PNG 8-bit grayscale, small")
    la = np.stack([synth(64, 48, 16)[..., 0], synth(64, 48, 17)[..., 1]], axis=-1)
    pil_png("gray_alpha8_64x48.png", Image.fromarray(la, mode="LA"), "PNG 8-bit gray + alpha")
    pil_png("bilevel_77x59.png", Image.fromarray(synth(77, 59, 18)).convert("1"), "PNG 1-bit grayscale")
    rgb16 = synth(42, 34, 19, noise=3).astype(np.uint16) * 257 + np.random.default_rng(19).integers(0, 257, (34, 42, 3))
    raw_png("rgb16_42x34.png", rgb16, 2, 16, "PNG 16-bit RGB (PIL keeps the high byte)")
    rgba16 = np.concatenate([rgb16, rgb16[..., :1]], axis=-1)[:, ::-1]
    raw_png("rgba16_42x34.png", np.ascontiguousarray(rgba16), 6, 16, "PNG 16-bit RGBA")
    g16 = (synth(44, 52, 20)[..., 0].astype(np.uint16) * 3)  # 0..765: PIL's I;16 -> RGB clips above 255
    raw_png("gray16_44x52.png", g16[..., None], 0, 16, "PNG 16-bit grayscale (PIL clips values above 255)")
    pil_png("exif6_rgb8_48x34.png", Image.fromarray(synth(48, 34, 22, noise=3)),
            "PNG 8-bit RGB with an eXIf chunk, orientation 6", exif=exif_orientation(6))
    raw_png("interlaced_81x67.png", synth(81, 67, 21, noise=3), 2, 8, "PNG 8-bit RGB, Adam7 interlaced", interlace=True)

    # broken files
    good = os.path.join(out, "baseline_97x75.jpg")
    with open(good, "rb") as f:
        data = f.read()
    with open(os.path.join(out, "corrupt_truncated.jpg"), "wb") as f:
        f.write(data[: len(data) // 2])
    with open(os.path.join(out, "rgb8_90x70.png"), "rb") as f:
        data = f.read()
    with open(os.path.join(out, "truncated.png"), "wb") as f:
        f.write(data[: len(data) * 2 // 3])
    return made


def pattern(w, h):
    """A deterministic busy test card the Swift tests rebuild from the same formula (ResamplePatternTests)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.int64)
    chans = [(x * x * 31 + y * 17 + x * y * 7 + c * 101 + (y * y * 3) // (c + 1)) % 256 for c in range(3)]
    return np.stack(chans, axis=-1).astype(np.uint8)


def resample_cases():
    """PIL's Image.resize on the test card over many size pairs (both pass orders, up and down, 1-pixel sides):
    sha256 of the output bytes. Pillow picks the pass order by size (vertical first when the height shrinks by
    more than twice as many pixels as the width), so the pairs cover both sides of that rule."""
    rng = np.random.default_rng(41)
    pairs = [(1, 1, 5, 3), (7, 1, 3, 1), (1, 9, 1, 2), (300, 40, 7, 9), (40, 300, 9, 7), (64, 64, 64, 32),
             (64, 64, 32, 64), (100, 100, 52, 3), (100, 100, 51, 3), (60, 120, 9, 18), (77, 95, 60, 61),
             (13, 17, 200, 150), (224, 170, 256, 256)]
    pairs += [tuple(int(v) for v in (*rng.integers(1, 160, size=2), *rng.integers(1, 120, size=2))) for _ in range(120)]
    cases = []
    for i, (w, h, W, H) in enumerate(pairs):
        for interp, flag in (("bilinear", Image.BILINEAR), ("bicubic", Image.BICUBIC)):
            out = np.asarray(Image.fromarray(pattern(w, h)).resize((W, H), flag))
            cases.append([w, h, W, H, interp, hashlib.sha256(out.tobytes()).hexdigest()])
    return cases


def tiny_model():
    model = TResNet(**TINY_V1)
    sd = torch.load(os.path.join(HERE, "tiny", "tiny_v1.pth"), map_location="cpu", weights_only=True)
    model.load_state_dict(sd, strict=True)
    return model.eval()


def topk(logits, k=5):
    order = sorted(range(len(logits)), key=lambda i: -logits[i])
    return order[:k]


def to_u8(t, what):
    u8 = torch.round(t * 255).to(torch.uint8)
    assert torch.equal(u8.float().div(255), t), f"{what}: tensor is not exactly uint8 / 255"
    return u8.numpy()


def make_imagefolder(folder, model):
    root = os.path.join(folder, "imagefolder")
    classes = {"alpha": [(96, 80, "jpg"), (52, 70, "png"), (81, 81, "jpg")],
               "beta": [(70, 100, "jpg"), (120, 72, "jpg"), (75, 60, "png")],
               "gamma": [(88, 88, "jpg"), (67, 95, "jpg"), (80, 64, "png")]}
    seed = 100
    for cls, items in classes.items():
        os.makedirs(os.path.join(root, cls))
        for i, (w, h, ext) in enumerate(items):
            seed += 1
            img = Image.fromarray(synth(w, h, seed, noise=8 if ext == "jpg" else 2))
            if cls == "gamma" and i == 1:
                img = img.convert("L")
            img.save(os.path.join(root, cls, f"img{i}.{ext}"), quality=88) if ext == "jpg" else \
                img.save(os.path.join(root, cls, f"img{i}.{ext}"))
    with open(os.path.join(root, "alpha", "img0.jpg"), "rb") as f:
        data = f.read()
    with open(os.path.join(root, "beta", "broken.jpg"), "wb") as f:
        f.write(data[:300])  # headers only: the scan stops early
    with open(os.path.join(root, "alpha", "notes.txt"), "w") as f:
        f.write("not an image: ImageFolder skips files without an image extension\n")

    ds = torchvision.datasets.ImageFolder(root, loader=lambda p: p)  # scan only; files are opened below
    tf = transform(MODEL_POLICY)
    per_image, unreadable = [], []
    top1 = top5 = 0
    for path, target in ds.samples:
        rel = os.path.relpath(path, root)
        try:
            x = tf(load_rgb(path))
        except Exception as e:  # noqa: BLE001 - the run counts and lists unreadable files
            unreadable.append(dict(path=rel, error=f"{type(e).__name__}: {e}"))
            continue
        with torch.no_grad():
            logits = model(x[None])[0].double().tolist()
        pred = topk(logits)
        top1 += int(pred[0] == target)
        top5 += int(target in pred)
        per_image.append(dict(path=rel, target=target, predicted=pred, logits=logits))
    result = dict(classes=ds.classes, policy=MODEL_POLICY, model="tiny_v1.pth", images=len(per_image),
                  unreadable=unreadable, top1_correct=top1, top5_correct=top5,
                  top1=100.0 * top1 / len(per_image), top5=100.0 * top5 / len(per_image), per_image=per_image)
    with open(os.path.join(folder, "imagefolder.expected.json"), "w") as f:
        json.dump(result, f, indent=1)
    return result


def make(folder):
    # Pillow 13 picks the resize pass order by size (Pillow#9549); TResNetImage reproduces that order, and the
    # references must come from a Pillow that has it.
    assert int(PIL.__version__.split(".")[0]) >= 13, f"Pillow >= 13 needed, found {PIL.__version__}"
    out = os.path.join(folder, "images")
    for d in (out, os.path.join(folder, "imagefolder")):
        if os.path.isdir(d):
            shutil.rmtree(d)
    os.makedirs(os.path.join(out, "ref"))
    made = make_images(out)
    model = tiny_model()
    torch.manual_seed(0)

    records = []
    batch, batch_names = [], []
    for name, desc in made:
        path = os.path.join(out, name)
        with Image.open(path) as im:
            info = dict(format=im.format, mode=im.mode, stored_size=list(im.size),
                        orientation=int(im.getexif().get(0x0112, 1)),
                        progressive=bool(im.info.get("progressive", False)))
        rgb = load_rgb(path)
        pixels = np.asarray(rgb)
        rec = dict(file=name, description=desc, **info, width=rgb.size[0], height=rgb.size[1],
                   rgb_sha256=hashlib.sha256(pixels.tobytes()).hexdigest(), references={})
        for policy in POLICIES:
            t = transform(policy)(rgb)
            ref = f"ref/{os.path.splitext(name)[0]}.{policy}.npy"
            np.save(os.path.join(out, ref), to_u8(t, f"{name} {policy}"))
            rec["references"][policy] = ref
            if policy == MODEL_POLICY:
                batch.append(t)
                batch_names.append(name)
        records.append(rec)

    with torch.no_grad():
        logits = model(torch.stack(batch)).double()
    for rec in records:
        i = batch_names.index(rec["file"])
        row = logits[i].tolist()
        order = topk(row, 6)
        rec["tiny_v1"] = dict(logits=row, top5=order[:5],
                              softmax_top5=torch.softmax(logits[i], 0)[order[:5]].tolist(),
                              # how far apart the ranked logits are: a top-5 comparison is only meaningful when
                              # these gaps are well above float noise
                              min_gap_top6=min(row[order[j]] - row[order[j + 1]] for j in range(5)))

    broken = []
    for name in ("corrupt_truncated.jpg", "truncated.png"):
        try:
            load_rgb(os.path.join(out, name))
            raise AssertionError(f"{name} should not load")
        except OSError as e:
            broken.append(dict(file=name, pil_error=f"{type(e).__name__}: {e}"))

    folder_result = make_imagefolder(folder, model)

    edges = []
    for name, desc in make_edge_pngs(os.path.join(out, "edge")):
        rgb = np.asarray(load_rgb(os.path.join(out, "edge", name)))
        edges.append(dict(file=f"edge/{name}", description=desc, width=rgb.shape[1], height=rgb.shape[0],
                          rgb_sha256=hashlib.sha256(rgb.tobytes()).hexdigest()))

    policies = {k: dict(v, mean=[0.0, 0.0, 0.0], std=[1.0, 1.0, 1.0],
                        timm_call=(f"timm.data.transforms_factory.transforms_imagenet_eval(img_size={v['img_size']}, "
                                   f"crop_pct={v['crop_pct']}, crop_mode='{v['crop_mode']}', "
                                   f"interpolation='{v['interpolation']}', mean=(0,0,0), std=(1,1,1))"),
                        transform=repr(transform(k)))
                for k, v in POLICIES.items()}
    manifest = dict(pillow=PIL.__version__, timm=timm.__version__, torch=torch.__version__,
                    torchvision=torchvision.__version__,
                    libjpeg_turbo=pil_features.version("libjpeg_turbo"), loader="ImageOps.exif_transpose(Image.open(p))"
                    ".convert('RGB')", reference_storage="uint8 [3,H,W]; tensor == uint8 / 255 exactly",
                    model="tiny_v1.pth (TResNet(**TINY['tiny_v1']), load_state_dict strict)", model_policy=MODEL_POLICY,
                    policies=policies, images=records, broken=broken, decode_only=edges,
                    resample_pattern="(x*x*31 + y*17 + x*y*7 + c*101 + (y*y*3) // (c+1)) % 256, int64, HWC",
                    resample_cases=resample_cases())
    with open(os.path.join(out, "images.json"), "w") as f:
        json.dump(manifest, f, indent=1)

    total = 0
    for d in (out, os.path.join(folder, "imagefolder")):
        for r, _, fs in os.walk(d):
            total += sum(os.path.getsize(os.path.join(r, f)) for f in fs)
    print(f"images: {len(records)} test images, {len(broken)} broken, imagefolder top-1 {folder_result['top1']:.1f}% "
          f"top-5 {folder_result['top5']:.1f}% ({folder_result['images']} images, "
          f"{len(folder_result['unreadable'])} unreadable); {total / 1e6:.3f} MB")
    assert total < 800_000, "image fixtures must stay well under 1 MB"


if __name__ == "__main__":
    torch.set_num_threads(2)
    make(os.path.join(HERE, "tiny"))
