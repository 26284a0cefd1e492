// Writes `<file>.br` (brotli, quality 11) and `<file>.gz` (gzip, level 9) beside every asset
// of the built web client that compresses, so the server sends them as they are instead of
// compressing on every cold load (backend/src/http/static_files.rs). `index.html` is left out:
// the server stamps the client version into it when it serves it.
//   node scripts/precompress.mjs dist
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const COMPRESSIBLE = /\.(wasm|js|css|svg|json|txt|map)$/;

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      walk(path);
    } else if (COMPRESSIBLE.test(name)) {
      compress(path);
    }
  }
}

function compress(path) {
  const raw = readFileSync(path);
  const br = brotliCompressSync(raw, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
    },
  });
  const gz = gzipSync(raw, { level: 9 });
  // A compressed file that is not smaller is not worth sending.
  if (br.length < raw.length) writeFileSync(`${path}.br`, br);
  if (gz.length < raw.length) writeFileSync(`${path}.gz`, gz);
  console.log(`${path}: ${raw.length} bytes, brotli ${br.length}, gzip ${gz.length}`);
}

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node scripts/precompress.mjs DIR");
  process.exit(2);
}
walk(dir);
