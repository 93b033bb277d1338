# romscan — run `make help` for the targets.
SHELL := /bin/bash
GO ?= go
BIN := bin/romscan
FUZZTIME ?= 60s
# Debian packages the build, the tests, the samples and the benchmarks use.
DEB_PACKAGES := libyara-dev libbrotli-dev liblzma-dev libdeflate-dev yara apktool apksigner zipalign aapt dexdump \
	android-sdk-libsparse-utils erofs-utils e2fsprogs brotli xz-utils gcc \
	default-jdk-headless time chromium
BENCH_PACKAGES := androguard

.PHONY: help deps build test demo samples bench fuzz lint golden accuracy clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 12

deps: ## install the Debian packages romscan needs when they are missing (root or sudo)
	@scripts/deps.sh $(DEB_PACKAGES)

build: ## build bin/romscan
	$(GO) build -o $(BIN) ./cmd/romscan

test: deps ## run every test (installs what the tests need first)
	$(GO) test -count=1 ./...

demo: deps build samples ## build, build the sample APKs, and scan them
	@echo "== romscan scan samples/build/apks"
	@./$(BIN) scan samples/build/apks; rc=$$?; \
	  echo "(exit code $$rc: 0 nothing at or above --fail-on, 1 findings at or above it)"; \
	  [ $$rc -le 1 ]

samples: ## build the sample APKs and ROM images from source into samples/build/
	samples/build.sh

bench: deps build ## Go benchmarks and the comparison with androguard and dexdump
	@scripts/deps.sh $(BENCH_PACKAGES)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 3x ./...
	scripts/bench.sh

fuzz: ## run every fuzz target for FUZZTIME each (default 60s)
	@scripts/fuzz.sh $(FUZZTIME)

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

accuracy: build ## DroidBench precision/recall of the flow analysis (writes docs/accuracy.md)
	scripts/accuracy.sh

golden: ## rewrite the renderers' golden files
	$(GO) test ./report/... -run Golden -update

clean: ## remove build outputs
	rm -rf bin samples/build
