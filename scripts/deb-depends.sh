#!/usr/bin/env bash
# The Depends of a binary, as dpkg-shlibdeps would give them without a source package: the
# Debian package of every shared library it needs, and for libc6 the newest glibc symbol
# version it uses.
#   scripts/deb-depends.sh target/debian/stage/usr/bin/sms   -> libc6 (>= 2.34), libgcc-s1
set -euo pipefail
bin=$1
deps=()
for lib in $(objdump -p "$bin" | awk '/NEEDED/ {print $2}'); do
  # awk reads the whole list (no early `exit`): under pipefail, ldconfig killed by SIGPIPE on a
  # long list would fail the package's build.
  path=$(ldconfig -p | awk -v lib="$lib" '!found && $1 == lib && /x86-64|x86_64/ {print $NF; found = 1}')
  if [ -z "$path" ]; then
    echo "deb-depends: $lib (needed by $bin) is not installed here" >&2
    exit 1
  fi
  # /lib and /usr/lib are one folder on Debian 12: dpkg knows the library by either name.
  package=$(dpkg -S "$path" 2>/dev/null || dpkg -S "/usr$path" 2>/dev/null || dpkg -S "${path#/usr}")
  package=${package%%:*}
  if [ "$package" = libc6 ]; then
    glibc=$(objdump -T "$bin" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
    deps+=("libc6 (>= $glibc)")
  else
    deps+=("$package")
  fi
done
printf '%s\n' "${deps[@]}" | sort -u | paste -sd, - | sed 's/,/, /g'
