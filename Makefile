# Outpost: the two set-up commands are `make demo` and `make test`; both install what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

SWIFT ?= swift
DEBUG_BIN := .build/debug
RELEASE_BIN := .build/release
RELEASE_FLAGS := -c release --static-swift-stdlib
BUILD_APT := libsodium-dev libsystemd-dev libcurl4-openssl-dev pkg-config
TEST_APT := $(BUILD_APT) python3 python3-pip curl minisign docker-registry apache2-utils openssl
BENCH_APT := nginx-light gcc skopeo docker-registry libsodium-dev
PYTHON ?= python3
DEB_APT := dpkg-dev binutils chrpath
E2E_APT := debootstrap systemd-container zstd lintian
# The package's version is BuildInfo.swift's; VERSION=... overrides it for the package only.
DEB_VERSION = $(or $(VERSION),$(shell sed -n 's/^ *public static let version = "\(.*\)"$$/\1/p' Sources/BuildInfo/BuildInfo.swift))
DEB = dist/outpost_$(DEB_VERSION)_amd64.deb
# The end-to-end test boots a container: it needs root (or sudo) and debootstrap and systemd-nspawn, installed or
# installable with apt.
E2E_POSSIBLE = { [ "$$(id -u)" = 0 ] || sudo -n true; } 2>/dev/null && \
	{ { command -v debootstrap && command -v systemd-nspawn; } || apt-cache show debootstrap systemd-container; } >/dev/null 2>&1

.PHONY: help deps test-deps build release test check-imports unit-tests integration-tests demo bench bench-inference clean buildinfo model

help:
	@echo "make demo   - install build dependencies, build, start outpostd on a temporary socket, call it, stop it"
	@echo "make test   - install test dependencies, build, run every test (unit + integration)"
	@echo "make bench  - HTTP benchmark against nginx (figures for BENCHMARKS.md)"
	@echo "make bench-inference - outpost bench against llama-bench, alternated rounds (figures for BENCHMARKS.md)"

# Installs Debian packages that are missing (idempotent; apt-get update only when something is missing).
define apt_install
	@missing=""; for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

deps:
	$(call apt_install,$(BUILD_APT))
	@command -v $(SWIFT) >/dev/null || { echo "error: the Swift 6 toolchain is required (swift not on PATH)"; exit 1; }

test-deps: deps
	$(call apt_install,$(TEST_APT))
	@$(PYTHON) -c "import pytest, openai, httpx, opentelemetry.proto" 2>/dev/null || $(PYTHON) -m pip install -q "pytest>=7" openai httpx opentelemetry-proto

# The commit goes into the binary through a generated header, rewritten only when it changes.
buildinfo:
	@mkdir -p Sources/CBuildInfo/generated; \
	commit=$$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown); \
	git diff --quiet HEAD 2>/dev/null || commit="$$commit-dirty"; \
	line="#define OUTPOST_GIT_COMMIT \"$$commit\""; \
	[ "$$(cat Sources/CBuildInfo/generated/commit.h 2>/dev/null)" = "$$line" ] || echo "$$line" > Sources/CBuildInfo/generated/commit.h

build: deps buildinfo
	$(SWIFT) build

release: deps buildinfo
	$(SWIFT) build $(RELEASE_FLAGS)

# Dependencies point one way (scripts/check-imports.py), and the check itself fails on planted wrong imports.
check-imports:
	$(PYTHON) scripts/check-imports.py
	bash scripts/test-check-imports.sh

unit-tests: test-deps buildinfo model check-imports
	$(SWIFT) build --build-tests
	OUTPOST_TEST_MODEL=$$(bash scripts/fetch-model.sh) LLAMA_CPP_VOCABS=$$(bash scripts/fetch-llama-vocabs.sh) $(SWIFT) test --skip-build

model:
	@bash scripts/fetch-model.sh >/dev/null
	@bash scripts/fetch-model.sh smollm2 >/dev/null

integration-tests: test-deps buildinfo model
	$(SWIFT) build
	OUTPOSTD=$(DEBUG_BIN)/outpostd OUTPOST=$(DEBUG_BIN)/outpost OUTPOST_TEST_MODEL=$$(bash scripts/fetch-model.sh) \
	  OUTPOST_CHAT_MODEL=$$(bash scripts/fetch-model.sh smollm2) \
	  $(PYTHON) -m pytest -q tests/integration

test: unit-tests integration-tests
	@if $(E2E_POSSIBLE); then $(MAKE) --no-print-directory e2e; \
	else echo "make test: e2e skipped: it needs root or sudo, and debootstrap and systemd-nspawn (apt)"; fi

demo: release
	@bash scripts/demo.sh $(RELEASE_BIN)

bench: release
	$(call apt_install,$(BENCH_APT))
	OUTPOSTD=$(RELEASE_BIN)/outpostd bash bench/http_bench.sh

bench-inference: release model
	OUTPOST=$(RELEASE_BIN)/outpost bash bench/inference_bench.sh

clean:
	rm -rf .build Sources/CBuildInfo/generated

.PHONY: deb e2e

# dist/outpost_<version>_amd64.deb from the release binaries and packaging/ + systemd/ (see packaging/build-deb.sh).
deb: release
	$(call apt_install,$(DEB_APT))
	VERSION=$(DEB_VERSION) bash packaging/build-deb.sh

# Installs the .deb in a booted Debian bookworm container and checks units, upgrade and purge (tests/e2e/run.sh).
e2e: deb model
	$(call apt_install,$(E2E_APT))
	@SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	$$SUDO env OUTPOST_TEST_MODEL=$$(bash scripts/fetch-model.sh) bash tests/e2e/run.sh $(DEB)
