#!/usr/bin/env bash
# Fuzzes the JSON API with schemathesis against a real `sms serve`, with every check: each
# operation of /api/v1/openapi.json gets generated valid and invalid requests, and every answer
# must be no server error, a documented status, content type, header and body, and so on
# (docs/testing.md). Exits non-zero when schemathesis finds anything.
#   scripts/schemathesis.sh                  builds target/debug/sms (cheap after the cargo tests)
#   SMS_BIN=path/to/sms scripts/schemathesis.sh
#   SCHEMATHESIS_MAX_EXAMPLES=500 scripts/schemathesis.sh   more cases per operation (default 100)
#   SCHEMATHESIS_SEED=42 scripts/schemathesis.sh            other cases (default seed 1, so that a
#                                                           run can be repeated exactly)
# Needs `scripts/setup.sh --test` (schemathesis in target/schemathesis-venv).
set -euo pipefail
cd "$(dirname "$0")/.."

ST=target/schemathesis-venv/bin/st
if [ ! -x "$ST" ]; then
  echo "error: $ST is missing: run scripts/setup.sh --test first." >&2
  exit 1
fi
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-100}"
SEED="${SCHEMATHESIS_SEED:-1}"
CLIENT="api/schemathesis"

say() { printf '\033[1m[schemathesis]\033[0m %s\n' "$*"; }

if [ -n "${SMS_BIN:-}" ]; then
  SMS="$SMS_BIN"
else
  cargo build --locked -p backend --bin sms
  SMS=target/debug/sms
fi

# The server connects to whatever device address the fuzzer makes up (POST /api/v1/devices):
# the servers and the fuzzer run in a network namespace of their own whose only interface is
# loopback, so nothing leaves this machine.
if [ -z "${SMS_FUZZ_NETNS:-}" ]; then
  if ! command -v ip >/dev/null; then
    echo "error: \`ip\` (Debian package iproute2) is needed to bring up the namespace's loopback." >&2
    exit 1
  fi
  export SMS_FUZZ_NETNS=1 SMS_BIN="$SMS"
  for isolate in "unshare --net" "unshare --map-root-user --net"; do
    if $isolate true 2>/dev/null; then
      exec $isolate -- bash -c 'ip link set lo up && exec "$0" "$@"' "$PWD/scripts/schemathesis.sh" "$@"
    fi
  done
  echo "error: cannot make a network namespace (unshare --net, as root or with user namespaces):" \
    "the fuzzer must not make the server connect to other hosts." >&2
  exit 1
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/sms-schemathesis.XXXXXX")"
SERVERS=()
stop_servers() {
  # Each server runs in its own process group (setsid): the supervisor and the level's server
  # it runs go together.
  for pid in "${SERVERS[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  for pid in "${SERVERS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  SERVERS=()
}
cleanup() {
  stop_servers
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server NAME [FLAGS...]: `sms serve` on a free loopback port with its own data dir and
# admin password; sets URL (no trailing slash) and PASSWORD.
start_server() {
  local name="$1"
  shift
  local dir="$WORK/$name"
  mkdir -p "$dir"
  PASSWORD="schemathesis-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  SMS_BOOTSTRAP_ADMIN_PASSWORD="$PASSWORD" SMS_DATA_DIR="$dir/data" SMS_STATIC_DIR="$dir/dist" \
    setsid "$SMS" serve --listen 127.0.0.1:0 "$@" >"$dir/stdout" 2>"$dir/stderr" </dev/null &
  local pid=$!
  SERVERS+=("$pid")
  URL=""
  for _ in $(seq 600); do
    URL="$(sed -n 's|^SMS server ready at \(http://[^ ]*\)/$|\1|p' "$dir/stdout" | head -n1)"
    [ -n "$URL" ] && break
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "error: the $name server stopped before it was ready:" >&2
      cat "$dir/stdout" "$dir/stderr" >&2
      exit 1
    fi
    sleep 0.1
  done
  if [ -z "$URL" ]; then
    echo "error: the $name server did not say it was ready within 60 s:" >&2
    cat "$dir/stdout" "$dir/stderr" >&2
    exit 1
  fi
  say "$name server ready at $URL ($dir)"
}

# login: a session for the admin of the server at URL; sets SMS_FUZZ_SESSION (the cookie's
# value), which scripts/schemathesis.toml hands to schemathesis as the `session` credentials.
login() {
  local headers="$WORK/login-headers"
  curl -sS --fail-with-body -o "$WORK/login-body" -D "$headers" \
    -H 'Content-Type: application/json' -H "X-SMS-Client: $CLIENT" \
    --data "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" "$URL/api/v1/session"
  SMS_FUZZ_SESSION="$(sed -n 's/^[Ss]et-[Cc]ookie: sms_session=\([^;]*\);.*/\1/p' "$headers" | head -n1)"
  export SMS_FUZZ_SESSION
  if [ -z "$SMS_FUZZ_SESSION" ]; then
    echo "error: the login answered no session cookie:" >&2
    cat "$headers" "$WORK/login-body" >&2
    exit 1
  fi
}

FAILED=0
SUMMARY=()
CASES_PASSED=0
CASES_FAILED=0
# fuzz NAME [ST FLAGS...]: one `st run` against the server at URL with the admin session; its
# counts go to the summary, and whatever it finds fails the whole run.
fuzz() {
  local name="$1"
  shift
  local report="$REPORTS/$name"
  rm -rf "$report"
  mkdir -p "$report"
  say "st run ($name)"
  local status=0
  # One worker: hypothesis parses sources with `ast.parse`, which CPython 3.11 and 3.12 do not
  # make safe across threads ("SystemError: AST constructor recursion depth mismatch").
  "$ST" --no-color --config-file scripts/schemathesis.toml run "$URL/api/v1/openapi.json" \
    --url "$URL" \
    -H "X-SMS-Client: $CLIENT" \
    --checks all \
    --max-examples "$MAX_EXAMPLES" \
    --seed "$SEED" \
    --workers 1 \
    --request-timeout 30 \
    --generation-database none \
    --report json --report-json-path "$report/schemathesis.json" \
    "$@" || status=$?
  SUMMARY+=("$name: $(summarize "$report/schemathesis.json")")
  read -r passed failed < <(counts "$report/schemathesis.json")
  CASES_PASSED=$((CASES_PASSED + passed))
  CASES_FAILED=$((CASES_FAILED + failed))
  if [ "$status" != 0 ]; then
    FAILED=1
    cat "$WORK/$SERVER/stdout" "$WORK/$SERVER/stderr" >"$report/server.log" 2>/dev/null || true
    say "$name: schemathesis found problems (exit $status); the server's log: $report/server.log"
  fi
}

# summarize REPORT: the counts of st's JSON report, on one line.
summarize() {
  python3 - "$1" <<'PY'
import json, sys
try:
    with open(sys.argv[1]) as f:
        r = json.load(f)
except (OSError, ValueError) as err:
    print(f"no report ({err})")
    sys.exit(0)
ops, cases = r.get("operations") or {}, r.get("test_cases") or {}
failures = sum(group["count"] for group in r.get("failures", []))
errors = sum(group["count"] for group in r.get("errors", []))
print(
    f"{ops.get('tested', 0)} of {ops.get('selected', 0)} operations tested, "
    f"{cases.get('generated', 0)} test cases, {cases.get('with_failures', 0)} with failures, "
    f"{failures} failures, {errors} errors, {r.get('running_time') or 0:.0f} s"
)
PY
}

# counts REPORT: "PASSED FAILED", the test cases without and with failures (an error counts as
# a failure, a missing report as one).
counts() {
  python3 - "$1" <<'PY'
import json, sys
try:
    with open(sys.argv[1]) as f:
        r = json.load(f)
except (OSError, ValueError):
    print(0, 1)
    sys.exit(0)
cases = r.get("test_cases") or {}
failed = cases.get("with_failures", 0) + cases.get("errored", 0)
print(max(cases.get("generated", 0) - failed, 0), failed + len(r.get("errors", [])))
PY
}

REPORTS=target/schemathesis-report
SERVER=""

# 1. A demo server (its own TMC with signed patches, three simulated devices): every operation
# but the ones left out here:
# - POST /api/v1/patches/{id}/install and POST /api/v1/rollback: a demo patch the fuzzer
#   downloads (the examples name 6.4.0.3) would really be installed, restarting (or rebooting)
#   the server under the fuzzer. POST /api/v1/backups/{backup}/restore likewise: the fuzzer
#   takes backups, and a restore of one restarts the server. They run against the throwaway
#   server below.
# - DELETE /api/v1/session: it ends the session the fuzzer uses. It runs last, on its own.
# POST /api/v1/cluster/{action} stays in: this server is in no cluster, so no action can change
# anything (409 `cluster_not_configured`); the real actions need two nodes on PostgreSQL, which
# the cluster tests run.
SERVER=demo
start_server "$SERVER" --demo
login
fuzz demo \
  --exclude-name 'POST /api/v1/patches/{id}/install' \
  --exclude-name 'POST /api/v1/rollback' \
  --exclude-name 'POST /api/v1/backups/{backup}/restore' \
  --exclude-name 'DELETE /api/v1/session'
# Logging out, last: the session ends with the first case that is accepted; the others get 401.
fuzz logout --include-name 'DELETE /api/v1/session'
stop_servers

# 2. A throwaway server without a TMC, with an empty patch repository and no backup, for
# install, rollback and restore: there is nothing to install, roll back or restore (a package
# to import would need the vendor's signature; no backup is taken here), so they answer without
# restarting anything.
SERVER=throwaway
start_server "$SERVER"
login
fuzz throwaway \
  --include-name 'POST /api/v1/patches/{id}/install' \
  --include-name 'POST /api/v1/rollback' \
  --include-name 'POST /api/v1/backups/{backup}/restore'
stop_servers

echo
say "summary (reports in $REPORTS/):"
for line in "${SUMMARY[@]}"; do
  say "  $line"
done
# The plain count line, last: test cases, over the three runs.
if [ "$FAILED" != 0 ]; then
  say "FAILED: schemathesis found problems, see above"
  echo "schemathesis: $CASES_PASSED passed, $((CASES_FAILED > 0 ? CASES_FAILED : 1)) failed"
  exit 1
fi
say "no server errors, every answer as documented"
echo "schemathesis: $CASES_PASSED passed, 0 failed"
