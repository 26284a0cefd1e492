#!/usr/bin/env bash
# Builds the Debian package of the SMS server from a built `sms` binary and web client
# (docs/debian.md): target/debian/sms_<version>_<arch>.deb.
#   scripts/deb.sh                         target/release/sms, dist/, the workspace's version
#   SMS_DEB_BIN=target/debug/sms SMS_DEB_VERSION=0.1.1 scripts/deb.sh
# A staged tree under target/debian/stage, packed by dpkg-deb (no debhelper needed): the
# binary (stripped), the web client, the conffile /etc/sms/sms.toml, the systemd unit, the
# maintainer scripts, the docs and the licences of the bundled libraries.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${SMS_DEB_BIN:-target/release/sms}
client=${SMS_DEB_CLIENT:-dist}
version=${SMS_DEB_VERSION:-$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)}
arch=$(dpkg --print-architecture)
out=target/debian
stage=$out/stage-$version
deb=$out/sms_${version}_${arch}.deb

say() { printf '\033[1m[deb]\033[0m %s\n' "$*"; }
for need in "$bin" "$client/index.html"; do
  if [ ! -e "$need" ]; then
    echo "deb: $need is missing: build it first (make deb does)" >&2
    exit 1
  fi
done

rm -rf "$stage"
install -d -m 0755 "$stage/DEBIAN" "$stage/usr/bin" "$stage/usr/share/sms" \
  "$stage/etc/sms" "$stage/lib/systemd/system" "$stage/usr/share/doc/sms" \
  "$stage/usr/share/polkit-1/rules.d"
install -m 0755 "$bin" "$stage/usr/bin/sms"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/usr/bin/sms"
cp -r "$client" "$stage/usr/share/sms/client"
find "$stage/usr/share/sms/client" -type d -exec chmod 0755 {} +
find "$stage/usr/share/sms/client" -type f -exec chmod 0644 {} +
install -m 0644 packaging/sms.toml "$stage/etc/sms/sms.toml"
install -m 0644 packaging/sms.service "$stage/lib/systemd/system/sms.service"
install -m 0644 packaging/50-sms.rules "$stage/usr/share/polkit-1/rules.d/50-sms.rules"

# Documentation: the README for Debian, the contracts of docs/, the changelog, the licences.
doc=$stage/usr/share/doc/sms
install -m 0644 packaging/README.Debian "$doc/README.Debian"
for page in docs/*.md; do
  gzip -9n < "$page" > "$doc/$(basename "$page").gz"
done
{
  printf 'sms (%s) stable; urgency=medium\n\n' "$version"
  printf '  * SMS server %s.\n\n' "$version"
  printf ' -- SMS patch management team <sms-team@example.com>  %s\n' \
    "$(date -R -u -d "@$(git log -1 --format=%ct 2>/dev/null || date +%s)")"
} | gzip -9n > "$doc/changelog.gz"
python3 scripts/deb-licenses.py "$doc/copyright" "$doc/third-party-licenses.txt"
gzip -9n "$doc/third-party-licenses.txt"
chmod 0644 "$doc"/*

# Control: what the binary links against (as dpkg-shlibdeps would say), its size, the scripts.
depends=$(scripts/deb-depends.sh "$stage/usr/bin/sms")
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
  -e "s/@DEPENDS@/$depends/" packaging/debian/control.in > "$stage/DEBIAN/control"
for script in postinst prerm postrm; do
  install -m 0755 "packaging/debian/$script" "$stage/DEBIAN/$script"
done
echo /etc/sms/sms.toml > "$stage/DEBIAN/conffiles"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z \
  | xargs -0 md5sum) > "$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/conffiles" "$stage/DEBIAN/md5sums"

dpkg-deb --root-owner-group "-Z${SMS_DEB_COMPRESSION:-xz}" --build "$stage" "$deb" >/dev/null
say "$deb ($(du -h "$deb" | cut -f1), installed $((size / 1024)) MiB)"
