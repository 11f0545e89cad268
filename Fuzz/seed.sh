#!/bin/sh
# Seed corpora for the fuzz targets, from the committed fixtures (run from the package root by `make fuzz`).
# Usage: Fuzz/seed.sh CORPUS_DIR [TRESNET_CONVERT] [FUZZ_BIN_DIR]
set -eu
C=${1:-.fuzz/corpus}
CONVERT=${2:-}
FUZZ_BIN=${3:-}
T=Fixtures/tiny
for t in FuzzPickle FuzzZip FuzzTorchZip FuzzLegacy FuzzSafetensors FuzzNpy FuzzNpz FuzzONNX FuzzTW FuzzJSON FuzzImage; do
    mkdir -p "$C/$t"
done
# Pickle: every data.pkl of the small zip fixtures, the raw hostile pickle, the legacy stream.
cp $T/hostile_reduce_raw.pkl $T/dtypes_legacy.pth "$C/FuzzPickle/"
for f in $T/nocrc.pth $T/proto4.pth $T/dtypes.pth $T/wrapper_ema.pth $T/hostile_inst.pth $T/hostile_stack_global.pth \
         Fixtures/readers/*.pth Fixtures/readers/*.ckpt; do
    for m in $(unzip -Z1 "$f" | grep "data.pkl$"); do unzip -p "$f" "$m" > "$C/FuzzPickle/$(basename "$f").pkl" 2>/dev/null || true; done
done
# Zip archives and torch zip checkpoints.
for f in $T/nocrc.pth $T/proto4.pth $T/dtypes.pth $T/wrapper_ema.pth $T/rezipped_deflate.pth $T/npy/*.npz \
         Fixtures/readers/*.pth Fixtures/readers/*.pt Fixtures/readers/*.ckpt; do cp "$f" "$C/FuzzZip/"; done
for f in $T/nocrc.pth $T/proto4.pth $T/dtypes.pth $T/wrapper_ema.pth $T/rezipped_deflate.pth $T/hostile_*.pth \
         Fixtures/readers/*.pth Fixtures/readers/*.ckpt; do cp "$f" "$C/FuzzTorchZip/"; done
cp $T/dtypes_legacy.pth "$C/FuzzLegacy/"
cp $T/npy/*.npy "$C/FuzzNpy/"
cp $T/npy/*.npz "$C/FuzzNpz/"
cp $T/tiny_v1.variant.onnx $T/micro.ts11_bn.dyn_bhw.onnx "$C/FuzzONNX/"
cp $T/onnx.json $T/npy/expected.json Fixtures/readers/manifest.json "$C/FuzzJSON/"
# Images: the decoder's test images (every JPEG and PNG kind, EXIF orientations, broken files) and the bombs.
cp $T/images/*.jpg $T/images/*.png $T/bombs/* "$C/FuzzImage/"
# The catalogue's crafted files seed the target of their format.
if [ -d Fixtures/hostile ]; then
    for f in Fixtures/hostile/*; do
        case "$f" in
            *.safetensors) cp "$f" "$C/FuzzSafetensors/" ;;
            *.npy) cp "$f" "$C/FuzzNpy/" ;;
            *.npz) cp "$f" "$C/FuzzNpz/"; cp "$f" "$C/FuzzZip/" ;;
            *.pkl) cp "$f" "$C/FuzzPickle/" ;;
            *.legacy.pt) cp "$f" "$C/FuzzLegacy/" ;;
            *.pth|*.pt|*.zip) cp "$f" "$C/FuzzTorchZip/"; cp "$f" "$C/FuzzZip/" ;;
            *.onnx) cp "$f" "$C/FuzzONNX/" ;;
            *.tw) cp "$f" "$C/FuzzTW/" ;;
            *.json) cp "$f" "$C/FuzzJSON/" ;;
        esac
    done
fi
# .tw seeds: a small file written by TWWriter (FuzzTW --write-seed) and the tiny model converted by tresnet-convert.
if [ -n "$FUZZ_BIN" ] && [ -x "$FUZZ_BIN/FuzzTW" ]; then
    "$FUZZ_BIN/FuzzTW" --write-seed "$C/FuzzTW/small.tw" >/dev/null || echo "note: no small .tw seed"
fi
if [ -n "$CONVERT" ] && [ -x "$CONVERT" ]; then
    "$CONVERT" $T/tiny_v1.pth "$C/FuzzTW/tiny_v1.tw" --force >/dev/null 2>&1 || echo "note: no .tw seed ($CONVERT failed)"
fi
# Crashers found earlier (each also a regression test input in Tests/).
if [ -d Fuzz/crashers ]; then
    for d in Fuzz/crashers/*/; do [ -d "$d" ] && cp "$d"* "$C/$(basename "$d")/" 2>/dev/null || true; done
fi
echo "seed corpora in $C"
