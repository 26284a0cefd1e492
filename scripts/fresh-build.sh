#!/usr/bin/env bash
# The build's own benchmark (docs/testing.md, "The build"): what a newcomer waits for on a fresh
# machine. In a fresh clone of this repository's HEAD, with an empty CARGO_HOME (every crate
# downloaded again) and an empty target folder, it times
#   1. `make run` until the demo answers its login page (then stops it),
#   2. `make test` after it,
#   3. `make test` again, without changes,
# and prints each run's phases: tool setup, web client, server, tests' build, the tests, the
# Debian package's checks, schemathesis. The machine's rustup toolchain, cargo-nextest,
# PostgreSQL and the system packages (Chromium, lintian) are used as they are.
#   scripts/fresh-build.sh               the three runs above
#   scripts/fresh-build.sh --test-only   `make test` alone on the fresh clone
#   FRESH_BUILD_DIR=DIR scripts/fresh-build.sh --report   the phases of the runs logged in DIR
# Keeps its clone and logs in $FRESH_BUILD_DIR (default: a new folder under /tmp) and exits
# non-zero when a run fails.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
mode="${1:-}"
work="${FRESH_BUILD_DIR:-$(mktemp -d /tmp/sms-fresh-build.XXXXXX)}"
mkdir -p "$work"
clone="$work/clone"
export CARGO_HOME="$work/cargo-home"
export CARGO_TARGET_DIR="$clone/target"
# The toolchain's proxies (cargo, rustc) stay where rustup put them.
export PATH="${HOME}/.cargo/bin:$PATH"
export CI="${CI:-true}"
export SMS_TEST_POSTGRES_URL="${SMS_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

say() { printf '\033[1m[fresh-build]\033[0m %s\n' "$*"; }

# Runs `make ARGS` in the clone, each output line stamped with the seconds since it started,
# into $work/NAME.log; its output is also shown.
timed_make() {
  local name="$1"
  shift
  local start=${EPOCHREALTIME/./}
  (cd "$clone" && make "$@" 2>&1) | while IFS= read -r line; do
    local now=${EPOCHREALTIME/./}
    printf '%7d.%d %s\n' $(((now - start) / 1000000)) $(((now - start) / 100000 % 10)) "$line"
  done | tee "$work/$name.log"
}

# One line per phase: when its first and last line of output came (minutes from the start).
# The package checks' output is printed when they and schemathesis are both done: the two are
# one phase, from schemathesis' first line to the package checks' last.
phases() {
  local log="$work/$1.log"
  awk -v name="$1" '
    function mark(phase) {
      if (!(phase in first)) { first[phase] = $1; order[++n] = phase }
      last[phase] = $1
    }
    { gsub(/\033\[[0-9;]*m/, "") }
    $2 == "[setup]" { mark("tool setup") }
    $2 == "[tools]" { mark("test tools (beside the builds)") }
    $2 == "[web" && $3 == "client]" { mark("web client") }
    $2 == "[server]" { mark("server (dev build)") }
    $2 == "[tests]" { mark("tests build") }
    / Starting [0-9]+ tests/ { mark("tests run") }
    /     Summary \[/ { mark("tests run") }
    $2 == "Doc-tests" || / merged doctests compilation/ { mark("doctests") }
    $2 == "[schemathesis]" || $2 == "[deb-test]" { mark("package checks + schemathesis") }
    / SMS server ready at / { mark("demo answers") }
    { end = $1 }
    END {
      printf "%s: %.1f min in all\n", name, end / 60
      printf "  %-34s %8s %8s %8s\n", "phase", "from", "to", "minutes"
      for (i = 1; i <= n; i++) {
        p = order[i]
        printf "  %-34s %8.1f %8.1f %8.1f\n", p, first[p] / 60, last[p] / 60, (last[p] - first[p]) / 60
      }
    }' "$log"
}

if [ "$mode" = "--report" ]; then
  for run in run test test-again test-only; do
    if [ -f "$work/$run.log" ]; then phases "$run"; fi
  done
  exit 0
fi

rm -rf "$clone" "$CARGO_HOME"
mkdir -p "$CARGO_HOME"
git clone --quiet --no-hardlinks "$repo" "$clone"
say "fresh clone of $(git -C "$clone" rev-parse --short HEAD) in $clone, CARGO_HOME=$CARGO_HOME"

if [ "$mode" = "--test-only" ]; then
  timed_make test-only test
  phases test-only
  du -sh "$CARGO_TARGET_DIR"
  exit 0
fi

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
data="$work/demo-data"
rm -rf "$data"
run_start=$(date +%s)
timed_make run run LISTEN="127.0.0.1:$port" DATA_DIR="$data" &
runner=$!
until curl -fsS -o /dev/null "http://127.0.0.1:$port/login" 2>/dev/null; do
  if ! kill -0 "$runner" 2>/dev/null; then
    say "make run stopped before the demo answered: see $work/run.log"
    exit 1
  fi
  sleep 1
done
run_seconds=$(($(date +%s) - run_start))
say "make run: the demo answered after $((run_seconds / 60)) min $((run_seconds % 60)) s"
pkill -TERM -f "sms serve --demo --listen 127.0.0.1:$port" || true
wait "$runner" || true

timed_make test test
timed_make test-again test

phases run
phases test
phases test-again
du -sh "$CARGO_TARGET_DIR"
