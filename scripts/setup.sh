#!/usr/bin/env bash
# Installs what building and testing the SMS needs, skipping what is already there.
#   scripts/setup.sh          toolchain for building the SPA and the server
#   scripts/setup.sh --test   also Chromium and ChromeDriver for the browser tests, lintian for
#                             the Debian package's checks, and
#                             schemathesis (PyPI) in a virtualenv under target/ for the API fuzzing,
#                             and aiosmtpd + prometheus-client (PyPI) in target/test-venv: the
#                             real SMTP server and Prometheus text parser the tests use
#   scripts/setup.sh --size   also twiggy, which `make size` reads the web client's wasm with
set -euo pipefail

cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
WASM_BINDGEN_VERSION=0.2.130
TWIGGY_VERSION=0.8.0
SCHEMATHESIS_VERSION=4.32.5
SCHEMATHESIS_VENV=target/schemathesis-venv
AIOSMTPD_VERSION=1.4.6
PROMETHEUS_CLIENT_VERSION=0.21.1
TEST_VENV=target/test-venv
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
export PATH="$CARGO_BIN:$PATH"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the Rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# The web client's build compiles the standard library for it (Makefile, SPA_ENV).
if ! rustup component list --installed | grep -qx rust-src; then
  say "adding the Rust standard library's source (rust-src)"
  rustup component add rust-src
fi

if ! trunk --version 2>/dev/null | grep -q "trunk $TRUNK_VERSION"; then
  say "installing trunk $TRUNK_VERSION (takes a few minutes, once)"
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q "wasm-bindgen $WASM_BINDGEN_VERSION"; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (takes a few minutes, once)"
  # Not --locked: its lock file names a crate version the registry no longer has.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if [ ! -x node_modules/.bin/wasm-opt ] || ! node_modules/.bin/wasm-opt --version | grep -q "version 132" \
  || [ ! -f node_modules/axe-core/axe.min.js ]; then
  say "installing wasm-opt (npm package binaryen) and axe-core (the browser tests' accessibility checks)"
  npm ci --no-audit --no-fund --loglevel=error
fi

if [ "${1:-}" = "--test" ]; then
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    say "installing Chromium and ChromeDriver (Debian packages)"
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    # One command, so both come at the same version.
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver
  fi

  # scripts/deb-test.sh checks the Debian package with lintian.
  if ! command -v lintian >/dev/null; then
    say "installing lintian (Debian package) for the package checks"
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq lintian
  fi

  # scripts/schemathesis.sh brings up the loopback of its network namespace with `ip`.
  if ! command -v ip >/dev/null; then
    say "installing iproute2 (Debian package) for the fuzzing's network namespace"
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq iproute2
  fi

  # scripts/schemathesis.sh runs it against a real server; its own virtualenv, so it touches no
  # system Python.
  if ! "$SCHEMATHESIS_VENV/bin/st" --version 2>/dev/null | grep -q "version $SCHEMATHESIS_VERSION\$"; then
    say "installing schemathesis $SCHEMATHESIS_VERSION into $SCHEMATHESIS_VENV"
    if [ ! -x "$SCHEMATHESIS_VENV/bin/pip" ]; then
      python3 -m venv "$SCHEMATHESIS_VENV"
    fi
    "$SCHEMATHESIS_VENV/bin/pip" install --quiet --disable-pip-version-check \
      "schemathesis==$SCHEMATHESIS_VERSION"
  fi

  # The SMTP server of the email tests and the Prometheus text parser of the metrics tests.
  if ! "$TEST_VENV/bin/python" -c "import aiosmtpd, prometheus_client" 2>/dev/null; then
    say "installing aiosmtpd $AIOSMTPD_VERSION and prometheus-client $PROMETHEUS_CLIENT_VERSION into $TEST_VENV"
    if [ ! -x "$TEST_VENV/bin/pip" ]; then
      python3 -m venv "$TEST_VENV"
    fi
    "$TEST_VENV/bin/pip" install --quiet --disable-pip-version-check \
      "aiosmtpd==$AIOSMTPD_VERSION" "prometheus-client==$PROMETHEUS_CLIENT_VERSION"
  fi
fi

if [ "${1:-}" = "--size" ]; then
  if ! twiggy --version 2>/dev/null | grep -q "twiggy $TWIGGY_VERSION"; then
    say "installing twiggy $TWIGGY_VERSION (a minute, once)"
    cargo install twiggy --version "$TWIGGY_VERSION" --locked
  fi
fi

say "tools ready"
