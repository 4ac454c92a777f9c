// Two peers in one process, timed in alternating blocks, so that the slow and fast spells of a
// shared machine (this VM's runs of one setup differ by up to 2× between processes) fall on both
// alike: the median of the per-block time ratios is the speed-up, with its p10–p90 over blocks.
// bench/compare.mjs measures each peer in its own processes; use this when a ratio is the question.
//   node bench/paired.mjs --shape 784x1024 --batches 16,64 --a sae-relaxed --b ortweb-int8
// Relaxed peers run under Node 22 (test/engines): the script restarts itself there.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { int8DotIsa } from "./lib/cpu.mjs";
import { PEERS, nodeFor } from "./lib/peers.mjs";
import { prepare } from "./lib/prepare.mjs";
import { readShape } from "./lib/data.mjs";

const { values: a } = parseArgs({
  options: {
    shape: { type: "string", default: "784x1024" },
    k: { type: "string", default: "32" },
    batches: { type: "string", default: "16,64" },
    a: { type: "string", default: "sae-relaxed" },
    b: { type: "string", default: "ortweb-int8" },
    blocks: { type: "string", default: "41" },
    "ms-per-block": { type: "string", default: "60" },
    // compare.mjs: its prepared data (left in place) instead of a new shape, and JSON out.
    dir: { type: "string" },
    json: { type: "boolean", default: false },
  },
});
for (const id of [a.a, a.b]) if (!PEERS[id]) throw new Error(`unknown peer ${id} (have ${Object.keys(PEERS).join(", ")})`);
const node = [a.a, a.b].map(nodeFor).find((n) => n !== process.execPath) ?? process.execPath;
if (node !== process.execPath) {
  const r = spawnSync(node, process.argv.slice(1), { stdio: "inherit" });
  process.exit(r.status ?? 1);
}

const batches = a.batches.split(",").map(Number);
const dir = a.dir ?? mkdtempSync(join(tmpdir(), "sae-edge-paired-"));
const q = (s, p) => [...s].sort((x, y) => x - y)[Math.min(s.length - 1, Math.floor(p * s.length))];
try {
  if (!a.dir) {
    const [dIn, dSae] = a.shape.split("x").map(Number);
    prepare(dir, { dIn, dSae, k: Number(a.k), arch: "topk" }, Math.max(...batches), 1);
  }
  const d = readShape(dir);
  const [pa, pb] = [await PEERS[a.a].open(d), await PEERS[a.b].open(d)];
  const head = { a: a.a, b: a.b, aLabel: pa.label, bLabel: pb.label, engine: `node ${process.version} (V8 ${process.versions.v8})`, rows: [] };
  const shape = `${d.dIn}x${d.dSae} ${d.arch === "topk" ? `TopK k=${d.k}` : d.arch}`;
  if (!a.json) {
    const isa = int8DotIsa();
    console.log(`${pa.label} vs ${pb.label}, ${shape}, ${process.version} (V8 ${process.versions.v8}), ${cpus()[0].model}${isa ? ` (${isa})` : ""} × ${cpus().length}, load ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
    console.log("| batch | A ms (median of blocks) | B ms | B time / A time: median (p10–p90 over blocks) | blocks |\n|---:|---:|---:|---|---:|");
  }
  for (const n of batches) {
    // Calls per block so that a block lasts about ms-per-block for the slower peer, after a warm-up.
    const once = async (p) => {
      const t0 = performance.now();
      await p.run(d.x, n);
      return performance.now() - t0;
    };
    for (let i = 0; i < 5; i++) await once(pa), await once(pb);
    const reps = Math.max(1, Math.round(Number(a["ms-per-block"]) / Math.max(await once(pa), await once(pb))));
    const ta = [], tb = [], ratio = [];
    for (let blk = 0; blk < Number(a.blocks); blk++) {
      let sa = 0, sb = 0;
      // Which goes first alternates, so neither always runs on a cache the other warmed or cooled.
      const order = blk % 2 ? [pb, pa] : [pa, pb];
      for (const p of order) for (let i = 0; i < reps; i++) p === pa ? (sa += await once(pa)) : (sb += await once(pb));
      ta.push(sa / reps), tb.push(sb / reps), ratio.push(sb / sa);
    }
    const row = { batch: n, aMs: q(ta, 0.5), bMs: q(tb, 0.5), ratio: q(ratio, 0.5), p10: q(ratio, 0.1), p90: q(ratio, 0.9), blocks: ratio.length };
    head.rows.push(row);
    if (!a.json) console.log(`| ${n} | ${row.aMs.toFixed(3)} | ${row.bMs.toFixed(3)} | ${row.ratio.toFixed(2)}× (${row.p10.toFixed(2)}–${row.p90.toFixed(2)}) | ${row.blocks} |`);
  }
  if (a.json) console.log(JSON.stringify(head));
  await pa.close?.();
  await pb.close?.();
} finally {
  if (!a.dir) rmSync(dir, { recursive: true, force: true });
}
