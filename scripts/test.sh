#!/usr/bin/env bash
# Runs every test of the workspace (unit, API, storage on SQLite and PostgreSQL, browser), then
# the Debian package's checks (scripts/deb-test.sh) and the API fuzzing (scripts/schemathesis.sh)
# side by side. Exits non-zero when any test fails, a package check fails or schemathesis finds
# anything.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${SMS_TEST_POSTGRES_URL:-}" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "error: CI=true but SMS_TEST_POSTGRES_URL is not set: the PostgreSQL tests are mandatory in CI." >&2
    exit 1
  fi
  printf '\n\033[1;33m%s\033[0m\n\n' \
    "WARNING: SMS_TEST_POSTGRES_URL is not set: the PostgreSQL storage tests will be SKIPPED. Set it, e.g. SMS_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres"
fi

# The workspace's default members: every crate but the web client, which builds for wasm only
# (its rules and their tests are web-core's). The same features everywhere, so that nothing is
# built twice: `make test` built all of it already (`make test-build`).
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --locked --no-fail-fast --features backend/fault-injection
  # nextest does not run doctests.
  cargo test --locked --doc --features backend/fault-injection
else
  cargo test --locked --no-fail-fast --features backend/fault-injection
fi

# The Debian package's checks (built from the binary the tests built, installed and checked, as
# root) and the fuzzing are independent: they run side by side. The tests built target/debug/sms
# with fault injection, which stays off without its variables: both use it as it is rather than
# building it again without the feature. The package checks' output is shown once both are done.
mkdir -p target
deb_log=target/deb-test.log
SMS_DEB_BIN=target/debug/sms scripts/deb-test.sh > "$deb_log" 2>&1 &
deb_pid=$!
fuzz_status=0
SMS_BIN=target/debug/sms scripts/schemathesis.sh || fuzz_status=$?
deb_status=0
wait "$deb_pid" || deb_status=$?
cat "$deb_log"
if [ "$deb_status" != 0 ]; then
  echo "error: the Debian package's checks failed (exit $deb_status): see above" >&2
fi
if [ "$fuzz_status" != 0 ]; then
  echo "error: schemathesis found problems (exit $fuzz_status): see above" >&2
fi
[ "$deb_status" = 0 ] && [ "$fuzz_status" = 0 ]
