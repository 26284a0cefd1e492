// Prints the web client's wasm size (raw and brotli at quality 11) and its largest parts, from
// twiggy's CSV of a build with names (scripts/size.sh).
//   node scripts/size.mjs dist/frontend-<hash>_bg.wasm target/size/top.csv
import { readFileSync } from "node:fs";
import { brotliCompressSync, constants } from "node:zlib";

const [wasmPath, csvPath] = process.argv.slice(2);
const wasm = readFileSync(wasmPath);
const brotli = brotliCompressSync(wasm, {
  params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: wasm.length },
});
const kb = (n) => `${(n / 1000).toFixed(1)} KB`;
console.log(`web client wasm: ${wasmPath}`);
console.log(`  raw     ${String(wasm.length).padStart(9)} bytes (${kb(wasm.length)}; target <= 800 KB)`);
console.log(`  brotli  ${String(brotli.length).padStart(9)} bytes (${kb(brotli.length)}; target <= 220 KB)`);

// One CSV row per item: Name,ShallowSize,... with names quoted when they hold commas.
function rows(text) {
  const out = [];
  for (const line of text.split("\n").slice(1)) {
    if (!line) continue;
    let name;
    let rest;
    if (line.startsWith('"')) {
      let i = 1;
      name = "";
      while (i < line.length) {
        if (line[i] === '"' && line[i + 1] === '"') { name += '"'; i += 2; continue; }
        if (line[i] === '"') break;
        name += line[i++];
      }
      rest = line.slice(i + 2);
    } else {
      const comma = line.indexOf(",");
      name = line.slice(0, comma);
      rest = line.slice(comma + 1);
    }
    out.push({ name, size: Number(rest.split(",")[0]) });
  }
  return out;
}

// The crate an item belongs to: the first path segment of the item, or of the type an impl is
// for (`<tachys::html::X as tachys::view::Render>::build` is tachys'), or of the trait when the
// type has no path (`<F as leptos_router::ChooseView>::choose` is leptos_router's).
const PATH = /^&?(mut )?([A-Za-z_][A-Za-z0-9_]*)(\[[0-9a-f]+\])?::/;
function crateOf(name) {
  if (name.startsWith("data segment")) return "(data: strings and tables)";
  if (name.startsWith("<")) {
    const type = name.slice(1).match(PATH);
    if (type) return type[2];
    const trait = name.match(/ as &?([A-Za-z_][A-Za-z0-9_]*)(\[[0-9a-f]+\])?::/);
    if (trait) return trait[1];
  }
  const path = name.match(PATH);
  return path ? path[2] : "(unnamed)";
}

const items = rows(readFileSync(csvPath, "utf8")).filter(
  (item) => !item.name.includes("names\" subsection") && !item.name.endsWith("names subsection"),
);
const total = items.reduce((sum, item) => sum + item.size, 0);
const byCrate = new Map();
for (const item of items) {
  const crate = crateOf(item.name);
  byCrate.set(crate, (byCrate.get(crate) ?? 0) + item.size);
}
const pct = (n) => `${((100 * n) / total).toFixed(1).padStart(5)} %`;
console.log("\ntop ten contributors (crates, by the code and data they bring):");
for (const [crate, size] of [...byCrate].sort((a, b) => b[1] - a[1]).slice(0, 10)) {
  console.log(`  ${String(size).padStart(9)} bytes ${pct(size)}  ${crate}`);
}
console.log("\nten largest items:");
for (const item of [...items].sort((a, b) => b.size - a.size).slice(0, 10)) {
  const name = item.name.length > 110 ? `${item.name.slice(0, 107)}...` : item.name;
  console.log(`  ${String(item.size).padStart(9)} bytes ${pct(item.size)}  ${name}`);
}
