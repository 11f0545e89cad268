# tresnet-kit — the two commands a fresh Debian machine needs: `make demo` and `make test`.
# Both install the Debian packages they need when missing (apt-get update first).

SWIFT ?= swift
DEB_PACKAGES := libzip-dev libprotobuf-c-dev libopenblas-dev protobuf-c-compiler pkg-config libjpeg62-turbo-dev libpng-dev zlib1g-dev libssl-dev \
  clang-format
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PY := .venv/bin/python
BIN = $(shell $(SWIFT) build -c release --show-bin-path 2>/dev/null)
FIX := Fixtures/tiny

.PHONY: all deps build release test lint format fuzz-check readme-check test-kernels test-aarch64 demo fixtures fixtures-full venv bench fuzz fuzz-build clean example docs

all: build

## Debian packages (installed only when one is missing)
deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

## The test suite: the style check (lint), unit, fixture, parity and CLI tests (the README's examples among them:
## readme-check), the C kernels' own test, the fuzz harnesses compiled (fuzz-check) and the example package
## (Examples/). Needs no Python.
test: deps lint test-kernels fuzz-check example
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

## Style: swift-format (.swift-format; the toolchain's own) over every Swift file but the generated tables, and
## clang-format (.clang-format; Debian's clang-format 14) over the C kernels and their test. `make format` applies
## both; `make lint` (part of `make test`) fails on any difference.
SWIFT_STYLE_FILES = Package.swift $(shell find Sources Tests Examples Fuzz -name '*.swift' -not -path '*/.build*' \
  -not -path '*/Generated/*' | LC_ALL=C sort)
C_STYLE_FILES := $(wildcard Sources/CTResNetKernels/*.c Sources/CTResNetKernels/*.h Sources/CTResNetKernels/include/*.h) \
  Tests/CKernelTests/kernel_test.c scripts/core_latency.c
lint: deps
	@$(SWIFT) format lint --strict --parallel $(SWIFT_STYLE_FILES)
	@clang-format --dry-run --Werror $(C_STYLE_FILES)
	@echo "lint: $(words $(SWIFT_STYLE_FILES)) Swift and $(words $(C_STYLE_FILES)) C files in style"

format: deps
	@$(SWIFT) format format -i --parallel $(SWIFT_STYLE_FILES)
	@clang-format -i $(C_STYLE_FILES)
	@echo "format: $(words $(SWIFT_STYLE_FILES)) Swift and $(words $(C_STYLE_FILES)) C files formatted"

## The README's examples, run on the committed tiny fixtures and compared with what the README shows
## (Tests/CLITests/ReadmeCheckTests.swift; also part of `make test`).
readme-check: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --filter ReadmeCheckTests

## The C kernels (Sources/CTResNetKernels) at every ISA this CPU runs against the naive reference
## (Tests/CKernelTests), then the default-ISA choice under each TRESNET_MAX_ISA cap. A few seconds.
KERNEL_SOURCES := $(wildcard Sources/CTResNetKernels/*.c) Tests/CKernelTests/kernel_test.c
KERNEL_FLAGS := -O2 -std=c11 -Wall -Wextra -ISources/CTResNetKernels/include -ISources/CTResNetKernels
CC ?= cc
test-kernels:
	@mkdir -p .build/ckernels
	$(CC) $(KERNEL_FLAGS) $(KERNEL_SOURCES) -lm -lpthread -o .build/ckernels/kernel_test
	.build/ckernels/kernel_test
	@best=$$(.build/ckernels/kernel_test | sed -n 's/.*default ISA: \([a-z0-9]*\).*/\1/p'); \
	for cap in portable avx2 avx512; do \
	  expect=$$cap; [ $$cap = avx512 ] && expect=$$best; \
	  [ $$cap = avx2 ] && [ $$best = portable ] && expect=portable; \
	  TRESNET_MAX_ISA=$$cap TK_EXPECT_DEFAULT_ISA=$$expect .build/ckernels/kernel_test >/dev/null || exit 1; \
	done; echo "TRESNET_MAX_ISA caps: ok"

## The same C test cross-compiled for aarch64 (NEON kernels) and run under qemu-user. Installs its Debian
## packages when missing. About a minute; not part of `make test` (see README).
AARCH64_PACKAGES := gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
test-aarch64:
	@missing=""; for p in $(AARCH64_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	@mkdir -p .build/ckernels
	aarch64-linux-gnu-gcc $(KERNEL_FLAGS) $(KERNEL_SOURCES) -lm -lpthread -o .build/ckernels/kernel_test-aarch64
	qemu-aarch64 -L /usr/aarch64-linux-gnu .build/ckernels/kernel_test-aarch64
	TRESNET_MAX_ISA=portable TK_EXPECT_DEFAULT_ISA=portable qemu-aarch64 -L /usr/aarch64-linux-gnu \
	  .build/ckernels/kernel_test-aarch64 >/dev/null && echo "TRESNET_MAX_ISA=portable on aarch64: ok"

## The main job on the bundled fixtures.
demo: release
	@mkdir -p out
	@echo "== 1. inspect the bundled checkpoint in the official MIIL spelling (InPlaceABN)"
	$(BIN)/tresnet-inspect $(FIX)/tiny_v1_miil.pth
	@echo
	@echo "== 2. convert it to the native .tw format"
	$(BIN)/tresnet-convert $(FIX)/tiny_v1_miil.pth out/tiny_v1_miil.tw --force
	@echo
	@echo "== 3. inspect the .tw: tensors plus typed metadata (configuration, preprocessing, provenance)"
	$(BIN)/tresnet-inspect out/tiny_v1_miil.tw
	@echo
	@echo "== 4. classify a test image (the tiny model has 10 unnamed classes; 64-pixel input)"
	$(BIN)/tresnet-predict out/tiny_v1_miil.tw $(FIX)/images/baseline_97x75.jpg --img-size 64
	@echo
	@echo "== 5. parity: every activation against PyTorch's, tap by tap"
	$(BIN)/tresnet-verify out/tiny_v1_miil.tw --reference $(FIX)/tiny_v1_miil.reference.npz

## Development only: the Python environment that makes fixtures and runs the peers in benchmarks.
venv: .venv/.done
.venv/.done: Fixtures/requirements.txt
	python3 -m venv .venv
	.venv/bin/pip install -q --upgrade pip
	.venv/bin/pip install -q -r Fixtures/requirements.txt
	touch $@

fixtures: venv
	$(PY) Fixtures/generate.py
	$(PY) Fixtures/generate_readers.py
	$(PY) Fixtures/gen_onnx_dynamic.py  # also writes the whole export matrix to the git-ignored Fixtures/full/onnx_dynamic/
	$(PY) Fixtures/gen_trained.py
	$(PY) Fixtures/gen_semantic.py
	$(PY) Fixtures/gen_containers.py
	$(PY) Fixtures/gen_modules.py
	$(PY) Fixtures/gen_bombs.py
	$(PY) Fixtures/gen_mldecoder.py  # ML-Decoder micro TResNets + the tiny COCO annotation file (Fixtures/tiny/mldecoder)
	$(PY) Fixtures/compress_references.py  # deflated references, image references packed: committed fixtures < 8 MB

fixtures-full: venv
	$(PY) Fixtures/generate.py --only-full
	$(PY) Fixtures/gen_onnx_dynamic.py --full
	$(PY) Fixtures/gen_trained.py --full
	$(PY) Fixtures/gen_semantic.py --full
	$(PY) Fixtures/gen_containers.py --full
	$(PY) Fixtures/gen_mldecoder.py --full

## Benchmarks (development): tresnet-bench vs PyTorch eager and ONNX Runtime (2 threads each), conversion vs cp,
## inspect and .tw open times, in one run -> docs/BENCHMARKS.md. Needs the venv and `make fixtures-full`.
## BENCH_FULL: the folder of full-size checkpoints; BENCH_ARGS: extra scripts/bench.py options.
BENCH_FULL ?= Fixtures/full
BENCH_ARGS ?=
bench: release
	@dpkg -s time >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time; }
	$(PY) scripts/bench.py --full $(BENCH_FULL) --bin $(BIN) $(BENCH_ARGS)

## libFuzzer + ASan harnesses, one per parser (Linux; package Fuzz/, docs/ROBUSTNESS.md).
## `make fuzz FUZZ_SECONDS=600` runs each target that long, FUZZ_JOBS at a time; outputs in the git-ignored .fuzz/.
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 2
FUZZ_BUILD := $(SWIFT) build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library --package-path Fuzz
fuzz-build: deps
	$(FUZZ_BUILD)

## The harnesses compiled without the sanitizers and not linked (half a minute; part of `make test`), so an API
## change that breaks one fails the tests rather than the next `make fuzz`.
FUZZ_ALL := FuzzPickle FuzzZip FuzzTorchZip FuzzLegacy FuzzSafetensors FuzzNpy FuzzNpz FuzzONNX FuzzTW FuzzJSON FuzzImage
fuzz-check: deps
	@for t in $(FUZZ_ALL); do \
	  $(SWIFT) build -q --package-path Fuzz --scratch-path .build/fuzz-check -Xswiftc -parse-as-library --target $$t \
	    || exit 1; \
	done; echo "fuzz harnesses: $(words $(FUZZ_ALL)) compiled"

fuzz: fuzz-build
	$(SWIFT) build --product tresnet-convert
	sh Fuzz/seed.sh .fuzz/corpus "$$($(SWIFT) build --show-bin-path)/tresnet-convert" "$$($(FUZZ_BUILD) --show-bin-path)"
	sh Fuzz/run.sh "$$($(FUZZ_BUILD) --show-bin-path)" $(FUZZ_SECONDS) $(FUZZ_JOBS) $(FUZZ_TARGETS)

clean:
	rm -rf .build out Fuzz/.build .fuzz

# The consumer example (Examples/ClassifyImage: depends on this package by path, as a user's package does):
# built cold in its own .build, then run on a committed fixture.
example: deps
	$(SWIFT) build --package-path Examples/ClassifyImage
	Examples/ClassifyImage/.build/debug/ClassifyImage Fixtures/tiny/tiny_v1.pth Fixtures/tiny/images/baseline_97x75.jpg

# The DocC catalog of the library (Sources/TResNetKit/TResNetKit.docc) as a static site in .build/docs.
docs: deps
	$(SWIFT) package --allow-writing-to-directory .build/docs generate-documentation --target TResNetKit \
	  --output-path .build/docs --transform-for-static-hosting
