// Checks that src/ imports point one way: each folder imports only its own files and folders
// of a lower layer (docs/architecture.md), layers above the runtime use only its published
// interface (src/runtime/index.ts), and only adapters, the CLI and the demo touch node: APIs.
// Prints one line per violation; exit 1 if there is any.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const LAYERS = [
  ["base"], ["format"], ["model"], ["runtime"], ["metrics"],
  ["importers", "train", "anomaly"], ["pool", "http"], ["index.ts"], ["adapters"], ["demo"], ["cli"],
];
const RANK = new Map(LAYERS.flatMap((names, rank) => names.map((n) => [n, rank])));
const NODE_ALLOWED = new Set(["adapters/node", "cli", "demo"]);

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "..", "src");

function* files(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (/\.ts$/.test(e.name)) yield p;
  }
}

/** The violations in src/, as human-readable lines. */
export function checkLayers(src = SRC) {
  const problems = [];
  for (const file of files(src)) {
    const rel = relative(src, file);
    const folder = rel.includes("/") ? rel.split("/")[0] : rel;
    const rank = RANK.get(folder);
    if (rank === undefined) {
      problems.push(`${rel}: folder "${folder}" is in no layer (add it to LAYERS in scripts/check-layers.mjs)`);
      continue;
    }
    const text = readFileSync(file, "utf8");
    for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)) {
      if (spec.startsWith("node:")) {
        if (![...NODE_ALLOWED].some((a) => rel.startsWith(a + "/"))) problems.push(`${rel}: imports ${spec}, but only ${[...NODE_ALLOWED].join(", ")} may use Node APIs`);
        continue;
      }
      if (!spec.startsWith(".")) continue;
      const target = relative(src, resolve(dirname(file), spec));
      if (target.startsWith("..")) continue; // outside src (build/*.wasm)
      const tFolder = target.includes("/") ? target.split("/")[0] : target.replace(/\.js$/, ".ts");
      if (tFolder === folder) continue;
      const tRank = RANK.get(tFolder);
      if (tRank === undefined || tRank >= rank) {
        problems.push(`${rel}: imports ${spec} (${tFolder}), which is not in a lower layer than ${folder}`);
      } else if (tFolder === "runtime" && rank > RANK.get("runtime") && target !== "runtime/index.js") {
        problems.push(`${rel}: imports ${spec}; above the runtime use its published interface, runtime/index.js`);
      }
    }
  }
  return problems;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const problems = checkLayers();
  for (const p of problems) console.error(p);
  if (problems.length) process.exit(1);
  console.log(`layers: ${LAYERS.map((l) => l.join("|")).join(" → ")}: every import points down`);
}
