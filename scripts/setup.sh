#!/usr/bin/env bash
# Installs what building and testing the SMS needs, skipping what is already there.
#   scripts/setup.sh              what the web client's build needs: the Rust target
#                                 wasm32-unknown-unknown, the standard library's source, and
#                                 wasm-opt (npm package binaryen) with axe-core into node_modules
#   scripts/setup.sh --test-tools what the tests need beyond the build: Chromium and ChromeDriver
#                                 for the browser tests, lintian for the Debian package's checks,
#                                 iproute2, schemathesis (PyPI) in a virtualenv under target/ for
#                                 the API fuzzing, and aiosmtpd, prometheus-client and tuf
#                                 (+ cryptography) (PyPI) in target/test-venv: the real SMTP
#                                 server, Prometheus text parser and TUF reference implementation
#                                 (python-tuf: the TUF feed's interop tests) the tests use
#                                 (`make test` installs these while it builds)
#   scripts/setup.sh --test       both
#   scripts/setup.sh --size       the build's tools and twiggy, which `make size` reads the web
#                                 client's wasm with
# The server, the tests and the web client's build step (xtask) need nothing else: no tool is
# compiled from source here.
set -euo pipefail

cd "$(dirname "$0")/.."

TWIGGY_VERSION=0.8.0
SCHEMATHESIS_VERSION=4.32.5
SCHEMATHESIS_VENV=target/schemathesis-venv
AIOSMTPD_VERSION=1.4.6
PROMETHEUS_CLIENT_VERSION=0.21.1
TUF_VERSION=7.0.1
CRYPTOGRAPHY_VERSION=51.0.1
TEST_VENV=target/test-venv
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
export PATH="$CARGO_BIN:$PATH"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

MODE="${1:-}"
build_tools() { [ "$MODE" != "--test-tools" ]; }
test_tools() { [ "$MODE" = "--test" ] || [ "$MODE" = "--test-tools" ]; }

if build_tools && ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the Rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# The web client's build compiles the standard library for it (xtask/src/web.rs).
if build_tools && ! rustup component list --installed | grep -qx rust-src; then
  say "adding the Rust standard library's source (rust-src)"
  rustup component add rust-src
fi

if build_tools && { [ ! -x node_modules/.bin/wasm-opt ] || ! node_modules/.bin/wasm-opt --version | grep -q "version 132" \
  || [ ! -f node_modules/axe-core/axe.min.js ]; }; then
  say "installing wasm-opt (npm package binaryen) and axe-core (the browser tests' accessibility checks)"
  npm ci --no-audit --no-fund --loglevel=error
fi

if test_tools; then
  # Debian's packages, in one apt command: Chromium and ChromeDriver (together, so both come at
  # the same version) for the browser tests, lintian for scripts/deb-test.sh, and iproute2
  # (`ip`) for the fuzzing's network namespace (scripts/schemathesis.sh).
  missing=()
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    missing+=(chromium chromium-driver)
  fi
  if ! command -v lintian >/dev/null; then missing+=(lintian); fi
  if ! command -v ip >/dev/null; then missing+=(iproute2); fi
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]} (Debian packages)"
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
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

  # python-tuf, the reference implementation of The Update Framework: the interop tests of the
  # TMC feed (format 2) run its client against `sms tmc serve --tuf` and build a repository
  # with its metadata API for the SMS to read (backend/tests/interop/). Its key library
  # (securesystemslib) signs only with pyca/cryptography, an extra that tuf does not pull in.
  # A different version of either is replaced.
  if ! "$TEST_VENV/bin/python" -c "import sys, tuf, cryptography; sys.exit(
      tuf.__version__ != '$TUF_VERSION' or cryptography.__version__ != '$CRYPTOGRAPHY_VERSION')" \
    2>/dev/null; then
    say "installing tuf (python-tuf) $TUF_VERSION and cryptography $CRYPTOGRAPHY_VERSION into $TEST_VENV"
    if [ ! -x "$TEST_VENV/bin/pip" ]; then
      python3 -m venv "$TEST_VENV"
    fi
    "$TEST_VENV/bin/pip" install --quiet --disable-pip-version-check \
      "tuf==$TUF_VERSION" "cryptography==$CRYPTOGRAPHY_VERSION"
  fi
fi

if [ "$MODE" = "--size" ]; then
  if ! twiggy --version 2>/dev/null | grep -q "twiggy $TWIGGY_VERSION"; then
    say "installing twiggy $TWIGGY_VERSION (a minute, once)"
    cargo install twiggy --version "$TWIGGY_VERSION" --locked
  fi
fi

say "tools ready"
