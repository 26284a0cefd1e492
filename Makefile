# The two commands of this project:
#   make run    build everything and start the demo server on http://127.0.0.1:8080
#   make test   build everything and run every test, browser tests included
#   make size   what the web client's wasm weighs (raw, brotli) and its largest parts
#   make screenshots   a PNG of every page at 1280x800 and 390x844 in target/screenshots/
#   make bench-panel   how fast the SMS Patches panel answers (API and browser)
#   make deb     the Debian package, target/debian/sms_<version>_<arch>.deb (docs/debian.md)
# Each installs what is missing first (scripts/setup.sh), and skip what is already there.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

LISTEN ?= 127.0.0.1:8080
DATA_DIR ?= ./data

# Everything the SPA is built from: rebuild dist/ only when one of these changed.
SPA_SOURCES := $(shell find frontend shared -type f -not -path '*/target/*') Cargo.toml Cargo.lock Trunk.toml .cargo/config.toml Makefile

.PHONY: run test size screenshots bench-panel deb setup setup-test setup-size spa server check-wasm fmt lint

run: setup spa server
	./target/release/sms serve --demo --listen $(LISTEN) --data-dir $(DATA_DIR)

test: setup-test spa check-wasm
	./scripts/test.sh

setup:
	./scripts/setup.sh

setup-test:
	./scripts/setup.sh --test

setup-size:
	./scripts/setup.sh --size

size: setup-size spa
	./scripts/size.sh

screenshots: setup-test spa
	cargo run --locked -p e2e --bin screenshots

bench-panel: setup-test spa
	cargo bench --locked -p e2e --bench panel

deb: setup spa server
	./scripts/deb.sh

spa: dist/index.html

# The web client's wasm is built with its own copy of the standard library, optimised for size
# with the app, with panics that stop it at once instead of formatting a message, and with
# `{:?}` (Debug) formatting left out, which only developers read: 57 KB less
# (docs/web-client.md). These are unstable cargo and rustc options, opened for this build only
# (RUSTC_BOOTSTRAP) on the machine's stable toolchain; rust-src comes from scripts/setup.sh.
# The stable toolchain's symbol names are kept, which `make size` reads its contributors from.
SPA_ENV := RUSTC_BOOTSTRAP=1 CARGO_UNSTABLE_BUILD_STD=std,panic_abort \
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zfmt-debug=none -Csymbol-mangling-version=legacy"

dist/index.html: $(SPA_SOURCES)
	cargo fetch --locked
	$(SPA_ENV) cargo fetch --locked --target wasm32-unknown-unknown
	$(SPA_ENV) trunk build --release
	node scripts/precompress.mjs dist
	@touch dist/index.html

server:
	cargo build --release --locked -p backend --bin sms

# `shared` must keep building for the browser, even the parts the SPA does not use yet.
check-wasm:
	cargo check --locked -p shared --target wasm32-unknown-unknown

fmt:
	cargo fmt --all

lint:
	cargo clippy --workspace --all-targets --locked -- -D warnings
	cargo clippy -p frontend --target wasm32-unknown-unknown --locked -- -D warnings
