# tresnet-kit — the two commands a fresh Debian machine needs: `make demo` and `make test`.
# Both install the Debian packages they need when missing (apt-get update first).

SWIFT ?= swift
DEB_PACKAGES := libzip-dev libprotobuf-c-dev libopenblas-dev protobuf-c-compiler pkg-config libjpeg62-turbo-dev libpng-dev zlib1g-dev
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PY := .venv/bin/python
BIN = $(shell $(SWIFT) build -c release --show-bin-path 2>/dev/null)
FIX := Fixtures/tiny

.PHONY: all deps build release test demo fixtures fixtures-full venv bench fuzz fuzz-build clean

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

## The test suite: unit, fixture, parity and CLI tests. Needs no Python.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

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
	$(BIN)/tresnet-predict out/tiny_v1_miil.tw $(FIX)/images/baseline_97x75.jpg --input-size 64
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
	$(PY) Fixtures/gen_bombs.py

fixtures-full: venv
	$(PY) Fixtures/generate.py --only-full

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

fuzz: fuzz-build
	$(SWIFT) build --product tresnet-convert
	sh Fuzz/seed.sh .fuzz/corpus "$$($(SWIFT) build --show-bin-path)/tresnet-convert" "$$($(FUZZ_BUILD) --show-bin-path)"
	sh Fuzz/run.sh "$$($(FUZZ_BUILD) --show-bin-path)" $(FUZZ_SECONDS) $(FUZZ_JOBS) $(FUZZ_TARGETS)

clean:
	rm -rf .build out Fuzz/.build .fuzz
