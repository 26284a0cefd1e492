#!/usr/bin/env bash
# What the web client weighs, and what it is made of (`make size`, after `make spa`):
#   - the wasm the server sends: raw bytes and brotli (quality 11, the file beside it in dist/);
#   - the ten crates that take the most of it, and its ten largest functions.
# The contributors come from the same build with its function names kept (wasm-bindgen with
# --keep-debug through the web client's build step, `target/xtask/xtask bindgen`; wasm-opt -Oz -g
# with the options xtask/src/web.rs gives it), read by twiggy (scripts/setup.sh --size).
set -euo pipefail

cd "$(dirname "$0")/.."

wasm=$(ls dist/*_bg.wasm)
built=target/wasm32-unknown-unknown/wasm-release/frontend.wasm
out=target/size
if [ ! -f "$built" ]; then
  echo "size: $built is missing: run \`make spa\` first" >&2
  exit 1
fi
mkdir -p "$out"
target/xtask/xtask bindgen --keep-debug "$built" "$out/bindgen"
wasm-opt -Oz --reorder-functions-by-name -g "$out/bindgen/frontend_bg.wasm" -o "$out/named.wasm" \
  --enable-bulk-memory --enable-reference-types --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-multivalue
twiggy top -n 1000000 --format csv "$out/named.wasm" > "$out/top.csv"
node scripts/size.mjs "$wasm" "$out/top.csv"
