// What ordering a batch's decoder gathers could save: the same batch of TopK codes decoded as
// given (value-descending per row), sorted by latent within each row, and sorted by latent across
// the whole batch (cut back into rows of the same lengths, so W_dec is read in one ascending sweep
// the way a batch-ordered decode would read it; those outputs are not the rows' reconstructions,
// only the memory access pattern is). Each timed decode follows an encode, as in forward().
//   node bench/decode-order.mjs [--shape 768x24576] [--k 128] [--batch 64] [--kernel simd128] [--runs 60]
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { loadSae, buildModel, serializeModel } from "../dist/node.js";
import { rng } from "./lib/data.mjs";

const { values: args } = parseArgs({
  options: {
    shape: { type: "string", default: "768x24576" },
    k: { type: "string", default: "128" },
    batch: { type: "string", default: "64" },
    kernel: { type: "string", default: "simd128" },
    runs: { type: "string", default: "60" },
  },
});
const [dIn, dSae] = args.shape.split("x").map(Number);
const k = Number(args.k), batch = Number(args.batch), runs = Number(args.runs);

const r = rng(7);
const weights = {
  architecture: "topk", dIn, dSae, k, applyBDecToInput: true,
  W_enc: new Float32Array(dIn * dSae).map(r), b_enc: new Float32Array(dSae),
  W_dec: new Float32Array(dSae * dIn).map(() => r() / Math.sqrt(dIn)), b_dec: new Float32Array(dIn).map(r),
};
const sae = await loadSae(serializeModel(buildModel(weights, "int8")), { kernel: args.kernel });
const x = new Float32Array(batch * dIn).map(() => 4 * r());
const codes = sae.encode(x);

// The codes with entries [from, to) of each range reordered by latent index.
function sortedWithin(ranges) {
  const indices = codes.indices.slice(), values = codes.values.slice();
  for (const [from, to] of ranges) {
    const order = Array.from({ length: to - from }, (_, i) => from + i).sort((a, b) => codes.indices[a] - codes.indices[b]);
    order.forEach((e, i) => ((indices[from + i] = codes.indices[e]), (values[from + i] = codes.values[e])));
  }
  return { ...codes, indices, values };
}
const rows = Array.from({ length: batch }, (_, i) => [codes.rowOffsets[i], codes.rowOffsets[i + 1]]);
const orders = { "as given": codes, "by latent within each row": sortedWithin(rows), "by latent across the batch": sortedWithin([[0, codes.indices.length]]) };

const times = Object.fromEntries(Object.keys(orders).map((name) => [name, []]));
for (let i = 0; i < 3; i++) for (const c of Object.values(orders)) sae.decode(c); // warm up
for (let i = 0; i < runs; i++) {
  for (const [name, c] of Object.entries(orders)) {
    sae.encode(x);
    const t0 = performance.now();
    sae.decode(c);
    times[name].push(performance.now() - t0);
  }
}
const q = (s, p) => s.slice().sort((a, b) => a - b)[Math.min(s.length - 1, Math.floor(p * s.length))];
const given = q(times["as given"], 0.5);
console.log(`sae-edge decode gather order: int8 TopK ${dIn}x${dSae} k=${k}, batch ${batch}, ${sae.info.kernel}, node ${process.version}, ${cpus()[0].model.trim()} (${cpus().length} cores)`);
console.log(`${new Set(codes.indices).size} distinct latents in ${codes.indices.length} codes\n`);
console.log("| order | decode ms, median (p10–p90) | as given / this |");
console.log("|---|---:|---:|");
for (const [name, s] of Object.entries(times)) console.log(`| ${name} | ${q(s, 0.5).toFixed(3)} (${q(s, 0.1).toFixed(3)}–${q(s, 0.9).toFixed(3)}) | ${(given / q(s, 0.5)).toFixed(2)}× |`);
sae.dispose();
