# The two commands of this project:
#   make run    build everything and start the demo server on http://127.0.0.1:8080
#   make test   check the code's shape (make house) and run every test, browser tests included,
#               and clippy (make lint)
#   make size   what the web client's wasm weighs (raw, brotli) and its largest parts
#   make screenshots   a PNG of every page at 1280x800 and 390x844 in target/screenshots/
#   make bench-panel   how fast the SMS Patches panel answers (API and browser)
#   make deb     the Debian package, target/debian/sms_<version>_<arch>.deb (docs/debian.md)
# Each installs what is missing first (scripts/setup.sh), and skips what is already there.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

LISTEN ?= 127.0.0.1:8080
DATA_DIR ?= ./data

# Everything the SPA is built from: rebuild dist/ only when one of these changed.
SPA_SOURCES := $(shell find frontend shared xtask -type f -not -path '*/target/*') Cargo.toml Cargo.lock .cargo/config.toml scripts/precompress.mjs

# The build step of the web client (xtask/src/web.rs), in a cargo profile of its own so that it
# builds beside the server's or the tests' build instead of waiting for it (docs/testing.md,
# "The build").
XTASK := target/xtask/xtask

# The tests' build: the same command builds (`--no-run`) and runs (scripts/test.sh).
NEXTEST := cargo nextest run --locked --features backend/fault-injection

# Two builds at once, each line of their output marked with what it comes from.
mark = 2>&1 | sed -u 's/^/[$(1)] /'

.PHONY: run test house size screenshots bench-panel deb setup setup-test setup-size spa server test-build fmt lint

# The web client and the server build side by side: on two cores, one's serial steps (linking,
# the web client's single code unit) leave room for the other.
run: setup
	@$(MAKE) --no-print-directory -j2 spa server
	./target/debug/sms serve --demo --listen $(LISTEN) --data-dir $(DATA_DIR)

# The code's shape first (a second at most), then the test tools install, the web client builds
# and the tests build, side by side. scripts/test.sh runs the tests, then clippy (make lint)
# beside the package checks and the fuzzing (docs/testing.md, "The code's shape").
test: house setup
	@$(MAKE) --no-print-directory -j3 spa test-build setup-test
	./scripts/test.sh

setup:
	./scripts/setup.sh

setup-test:
	./scripts/setup.sh --test-tools $(call mark,tools)

setup-size:
	./scripts/setup.sh --size

size: setup setup-size spa
	./scripts/size.sh

screenshots: setup setup-test spa
	cargo run --locked -p e2e --features screenshots --bin screenshots

bench-panel: setup setup-test spa
	cargo bench --locked -p e2e --bench panel

deb: setup spa
	cargo build --release --locked -p backend --bin sms
	./scripts/deb.sh

spa: dist/index.html

dist/index.html: $(SPA_SOURCES)
	cargo build --locked --profile xtask -p xtask $(call mark,web client)
	$(XTASK) web $(call mark,web client)

# The dev build, the one the tests use (make run after make test builds only the server's own
# crates again): a release build of the server costs minutes more on two cores, and the demo
# does not need its speed. `make deb` builds the release.
server:
	cargo build --locked -p backend --bin sms $(call mark,server)

test-build:
	$(NEXTEST) --no-run $(call mark,tests)

# File sizes, the backend's layers, import circles (scripts/house.py, docs/testing.md).
house:
	./scripts/house.py

fmt:
	cargo fmt --all

lint:
	cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
	cargo clippy -p frontend --target wasm32-unknown-unknown --locked -- -D warnings
