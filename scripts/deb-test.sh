#!/usr/bin/env bash
# The Debian package's checks (docs/debian.md, run by `make test` as root): build it, check it
# with lintian, list its contents, install it, serve with the installed binary and
# /etc/sms/sms.toml as the user `sms` from /var/lib/sms, `sms doctor` passing and failing,
# upgrade to a higher version keeping the data, remove and purge. Exits non-zero on the first
# check that fails, saying which.
#   SMS_DEB_BIN=target/debug/sms scripts/deb-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[deb-test]\033[0m %s\n' "$*"; }
fail() { printf '\033[1;31m[deb-test] FAILED:\033[0m %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" != 0 ]; then
  if [ "${CI:-}" = "true" ]; then
    fail "the package checks install the package: CI runs them as root"
  fi
  printf '\n\033[1;33m%s\033[0m\n\n' "WARNING: not root: the Debian package checks are SKIPPED (they install the package)."
  exit 0
fi

export SMS_DEB_BIN=${SMS_DEB_BIN:-target/debug/sms}
# Quicker to pack than xz; the checks are the same.
export SMS_DEB_COMPRESSION=${SMS_DEB_COMPRESSION:-gzip}
base=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
arch=$(dpkg --print-architecture)
first=target/debian/sms_${base}_${arch}.deb
second=target/debian/sms_${base}+1_${arch}.deb
work=$(mktemp -d)
server_pid=""

stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
cleanup() {
  stop_server
  chmod 0750 /var/lib/sms 2>/dev/null || true
  dpkg --purge sms >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# A machine where an earlier run stopped half-way.
dpkg --purge sms >/dev/null 2>&1 || true

say "building $first and $second from $SMS_DEB_BIN"
SMS_DEB_VERSION=$base scripts/deb.sh
SMS_DEB_VERSION=$base+1 scripts/deb.sh

say "lintian (no error allowed)"
lintian --fail-on error --tag-display-limit 0 "$first" || fail "lintian reports errors in $first"

say "contents"
dpkg-deb --contents "$first" > "$work/contents"
for path in ./usr/bin/sms ./usr/share/sms/client/index.html ./etc/sms/sms.toml \
  ./lib/systemd/system/sms.service ./usr/share/doc/sms/copyright \
  ./usr/share/doc/sms/third-party-licenses.txt.gz ./usr/share/doc/sms/README.Debian \
  ./usr/share/doc/sms/configuration.md.gz ./usr/share/doc/sms/changelog.gz \
  ./usr/share/polkit-1/rules.d/50-sms.rules; do
  grep -q " $path\$" "$work/contents" || fail "$first does not hold $path"
done
grep -q '_bg\.wasm$' "$work/contents" || fail "$first does not hold the web client's wasm"
dpkg-deb --info "$first" conffiles | grep -qx /etc/sms/sms.toml || fail "/etc/sms/sms.toml is not a conffile"

say "install"
dpkg -i "$first" > "$work/install.log" 2>&1 || { cat "$work/install.log"; fail "dpkg -i $first"; }
getent passwd sms > "$work/passwd" || fail "the install did not create the user sms"
uid=$(cut -d: -f3 "$work/passwd")
[ "$uid" -lt 1000 ] || fail "sms is not a system user (uid $uid)"
[ "$(stat -c '%U:%G %a' /var/lib/sms)" = "sms:sms 750" ] \
  || fail "/var/lib/sms is $(stat -c '%U:%G %a' /var/lib/sms), not sms:sms 750"
[ -x /usr/bin/sms ] || fail "/usr/bin/sms is not installed"

say "systemd-analyze verify"
systemd-analyze verify /lib/systemd/system/sms.service || fail "systemd-analyze verify sms.service"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# Every address, as the package's configuration has it, on a free port instead of 443.
export SMS_LISTEN=0.0.0.0:$port
serve() {
  local log=$1
  runuser -u sms -- env SMS_LISTEN="$SMS_LISTEN" /usr/bin/sms serve --config /etc/sms/sms.toml \
    > "$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 600); do
    if grep -q '^SMS server ready at' "$log"; then
      return 0
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
      cat "$log"
      fail "the installed server stopped before it was ready"
    fi
    sleep 0.1
  done
  cat "$log"
  fail "the installed server was not ready within 60 s"
}
doctor() {
  runuser -u sms -- env SMS_LISTEN="$SMS_LISTEN" /usr/bin/sms doctor --config /etc/sms/sms.toml
}

say "first start as sms, HTTPS on every address"
serve "$work/first.log"
grep -q 'First start: created the user `admin`' "$work/first.log" \
  || { cat "$work/first.log"; fail "the first start did not print the admin's one-time password"; }
grep -q 'Certificate SHA-256 fingerprint: ' "$work/first.log" \
  || fail "the first start did not print the certificate's fingerprint"
grep -q "SMS server ready at https://" "$work/first.log" || fail "the server does not serve HTTPS"
curl -fsSk "https://127.0.0.1:$port/api/v1/health" > /dev/null || fail "health over HTTPS"
curl -fsSk "https://127.0.0.1:$port/" | grep -qi '<html' || fail "the web client is not served"
[ "$(stat -c %U /var/lib/sms/sms.db)" = sms ] || fail "the database is not the user sms's"

say "sms doctor passes"
doctor > "$work/doctor-ok.log" 2>&1 || { cat "$work/doctor-ok.log"; fail "sms doctor failed on a working installation"; }
cat "$work/doctor-ok.log"

say "sms doctor fails on a data dir the service cannot write"
stop_server
chmod 0550 /var/lib/sms
if doctor > "$work/doctor-broken.log" 2>&1; then
  cat "$work/doctor-broken.log"
  fail "sms doctor passed with a data dir its user cannot write"
fi
grep -q '^FAIL  data dir' "$work/doctor-broken.log" \
  || { cat "$work/doctor-broken.log"; fail "sms doctor did not name the data dir"; }
grep -q 'fix: ' "$work/doctor-broken.log" || fail "sms doctor did not say how to fix it"
chmod 0750 /var/lib/sms

say "upgrade to $base+1 keeps the data and the changed configuration"
echo '# changed by the admin' >> /etc/sms/sms.toml
db_before=$(md5sum < /var/lib/sms/sms.db)
dpkg -i --force-confold "$second" > "$work/upgrade.log" 2>&1 || { cat "$work/upgrade.log"; fail "dpkg -i $second"; }
[ "$(dpkg-query -W -f='${Version}' sms)" = "$base+1" ] || fail "the upgrade did not install $base+1"
grep -q '^# changed by the admin$' /etc/sms/sms.toml || fail "the upgrade replaced the changed configuration"
[ "$(md5sum < /var/lib/sms/sms.db)" = "$db_before" ] || fail "the upgrade changed the database"
serve "$work/second.log"
if grep -q 'First start' "$work/second.log"; then
  fail "the upgraded server started afresh: the data was lost"
fi
curl -fsSk "https://127.0.0.1:$port/api/v1/health" > /dev/null || fail "health after the upgrade"
stop_server

say "remove keeps the data and the user; purge removes them"
dpkg -r sms > /dev/null || fail "dpkg -r sms"
[ ! -e /usr/bin/sms ] || fail "dpkg -r left /usr/bin/sms"
[ -d /var/lib/sms ] || fail "dpkg -r removed /var/lib/sms"
getent passwd sms > /dev/null || fail "dpkg -r removed the user sms"
dpkg --purge sms > /dev/null || fail "dpkg --purge sms"
[ ! -e /var/lib/sms ] || fail "dpkg --purge left /var/lib/sms"
[ ! -e /etc/sms/sms.toml ] || fail "dpkg --purge left /etc/sms/sms.toml"
if getent passwd sms > /dev/null; then fail "dpkg --purge left the user sms"; fi

say "all package checks passed ($(du -h "$first" | cut -f1) package)"
