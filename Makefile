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
	@echo "== inspect the bundled official-MIIL-spelling fixture"
	$(BIN)/tresnet-inspect $(FIX)/tiny_v1_miil.pth
	@echo
	@echo "== inspect a legacy (pre-1.6) checkpoint and a safetensors file"
	$(BIN)/tresnet-inspect $(FIX)/tiny_v1_legacy.pth
	$(BIN)/tresnet-inspect $(FIX)/tiny_v1.safetensors

## Development only: the Python environment that makes fixtures and runs the peers in benchmarks.
venv: .venv/.done
.venv/.done: Fixtures/requirements.txt
	python3 -m venv .venv
	.venv/bin/pip install -q --upgrade pip
	.venv/bin/pip install -q -r Fixtures/requirements.txt
	touch $@

fixtures: venv
	$(PY) Fixtures/generate.py

fixtures-full: venv
	$(PY) Fixtures/generate.py --only-full

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
