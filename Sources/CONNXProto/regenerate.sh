#!/bin/sh
# Regenerates the protobuf-c code for onnx.proto (needs protobuf-c-compiler: `apt-get install protobuf-c-compiler`).
# The generated files are committed and never edited by hand; SwiftPM puts include/ on the header path.
set -eu
cd "$(dirname "$0")"
protoc-c --c_out=. onnx.proto
mv onnx.pb-c.h include/onnx.pb-c.h
echo "regenerated onnx.pb-c.c and include/onnx.pb-c.h with $(protoc-c --version | head -1)"
