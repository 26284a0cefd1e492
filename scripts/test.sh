#!/usr/bin/env bash
# Runs every test of the workspace (unit, API, storage on SQLite and PostgreSQL, browser), then
# the Debian package's checks (scripts/deb-test.sh), the API fuzzing (scripts/schemathesis.sh)
# and clippy (make lint) side by side. Exits non-zero when any test fails, a package check fails,
# schemathesis finds anything or clippy warns.
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
# root), the fuzzing and clippy are independent: they run side by side. The tests built
# target/debug/sms with fault injection, which stays off without its variables: the package
# checks and the fuzzing use it as it is, so they run no cargo command and clippy never waits for
# the build folder's lock. Clippy checks in a mode of its own (on a fresh machine every dependency
# once more, in check mode: minutes): here, niced, it takes the cores the package checks and the
# fuzzer leave idle rather than running before or during the timing-sensitive tests. The package
# checks' and clippy's output is shown once all three are done.
mkdir -p target
deb_log=target/deb-test.log
lint_log=target/lint.log
SMS_DEB_BIN=target/debug/sms scripts/deb-test.sh > "$deb_log" 2>&1 &
deb_pid=$!
nice -n 10 make --no-print-directory lint > "$lint_log" 2>&1 &
lint_pid=$!
fuzz_status=0
SMS_BIN=target/debug/sms scripts/schemathesis.sh || fuzz_status=$?
deb_status=0
wait "$deb_pid" || deb_status=$?
lint_status=0
wait "$lint_pid" || lint_status=$?
cat "$deb_log"
cat "$lint_log"
if [ "$deb_status" != 0 ]; then
  echo "error: the Debian package's checks failed (exit $deb_status): see above" >&2
fi
if [ "$fuzz_status" != 0 ]; then
  echo "error: schemathesis found problems (exit $fuzz_status): see above" >&2
fi
if [ "$lint_status" != 0 ]; then
  echo "error: clippy warns (make lint, exit $lint_status): see above" >&2
fi
[ "$deb_status" = 0 ] && [ "$fuzz_status" = 0 ] && [ "$lint_status" = 0 ]
