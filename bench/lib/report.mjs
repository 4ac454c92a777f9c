// The run as markdown (tables per shape, the work per encode, the roofline, the issue-15 goals) and one SVG per shape.
import { DEVICES, memoryBoundMs } from "./roofline-math.mjs";

// d decimals from 1 up, d significant digits below 1; at most 1 decimal from 10, none from 100.
const f = (v, d = 3) => (v === undefined ? "—" : d === 0 || v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(d) : v.toPrecision(d));

export function markdown(run) {
  const L = [];
  L.push(`# sae-edge vs peers — ${run.date}`, "");
  L.push(`Machine: ${run.machine.cpu}${run.machine.int8Dot ? ` (${run.machine.int8Dot})` : ""}, ${run.machine.cores} cores, ${run.machine.memGiB} GiB, ${run.machine.os}. One thread everywhere.`);
  L.push(`Timing: per case, warm-up then samples for ${run.settings.msPerCase} ms in ${run.settings.rounds} visit(s) per peer, pooled; median and p10–p90 of the samples. Each peer in its own process; outputs checked against sae-edge's f32 path first.`);
  L.push(`Engines: ${Object.values(run.engines).join("; ")}. Packages: ${Object.entries(run.packages).map(([k, v]) => `${k} ${v}`).join(", ") || "peers not installed"}.`, "");
  const r = run.roofline;
  L.push("## Roofline (measured in this run)", "");
  L.push("| ceiling | 1 row: GOPS (sae-edge kernel / clang loop) | multi-row: GOPS (sae-edge kernel / clang loop) |", "|---|---:|---:|");
  const both = (c, n) => `${f(c[`rows${n}_gops`], 1)} (${f(c[`as_rows${n}_gops`], 1)} / ${f(c[`c_rows${n}_gops`], 1)})`;
  for (const isa of ["simd128", "relaxed"]) if (r[isa]) L.push(`| int8 encoder, wasm ${isa}${r[isa].relaxed_dot ? ` (${r[isa].relaxed_dot} dot)` : ""}, 192 KiB of weights in L2 (${r[isa].engine}) | ${both(r[isa], 1)} | ${both(r[isa], 4)} |`);
  for (const s of run.shapes) L.push(`| v128 read bandwidth over ${(s.weightBytes / 2 ** 20).toFixed(1)} MiB (${s.name}), best of ${s.bandwidth.all_gbps.join(", ")} | ${f(s.bandwidth.gbps, 1)} GB/s | |`);
  L.push("", "Roofline time = max(weight bytes / bandwidth, 2·d_in·d_sae·batch / ceiling); relaxed rows use the relaxed ceiling, all others SIMD128 (1-row ceiling at batch 1, multi-row at batch ≥ 4). % of roofline = roofline time / measured median time (native onnxruntime-node, with whatever int8 instructions the CPU has, is held to the same wasm roofline, so it can pass 100%). Ceilings are the 10th-percentile time of their samples (noise only slows), the compute one from the faster of sae-edge's kernel and the C twin's loops.", "");
  for (const s of run.shapes) {
    L.push(`## ${s.name}: ${s.dIn}×${s.dSae} ${s.arch}${s.arch === "topk" ? ` k=${s.k}` : ""} (${(s.weightBytes / 2 ** 20).toFixed(1)} MiB int8 encoder)`, "");
    L.push("| runtime | batch | median ms | p10–p90 ms | ms/row | GOPS | % roofline | × faster than ort-web int8 | time / ort-node int8 | runs | check (max err / max\\|h\\|) |");
    L.push("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for (const row of s.rows) {
      const chk = `${(100 * row.check.relErr).toPrecision(2)}%${row.check.mismatchVsInt8 === 0 ? ", = sae-edge int8 bit for bit" : ""}`;
      for (const x of row.results) {
        if (x.skipped) {
          L.push(`| ${row.label} | ${x.batch} | skipped: ${x.skipped} | | | | | | | | |`);
          continue;
        }
        L.push(`| ${row.label} (${row.engine}) | ${x.batch} | ${f(x.median_ms)} | ${f(x.p10_ms)}–${f(x.p90_ms)} | ${f(x.ms_per_row)} | ${f(x.gops, 1)} | ${f(x.pct_roofline, 0)}% | ${f(x.speedup_vs_ortweb_int8, 2)} | ${f(x.time_vs_ortnode_int8, 2)} | ${x.runs} | ${chk} |`);
      }
    }
    const w = s.work;
    L.push("", `Work per encode: ${f(w.opsPerRow / 1e6)} M int8 ops per row; ${f(w.bytesPerPass / 2 ** 20)} MiB of weights, scales and biases read per pass over the encoder (once per call at batch 1), plus ${w.bytesPerRow} bytes of input and codes per row.`);
    L.push(`Batch-1 time where the weights stream from DRAM, at least bytes / bandwidth: ${DEVICES.map((d) => `${d.name} (${d.gbps} GB/s, ${d.source}) ≥ ${f(memoryBoundMs(s, d.gbps))} ms`).join("; ")}; this machine's measured ${f(s.bandwidth.gbps, 1)} GB/s gives ≥ ${f(memoryBoundMs(s, s.bandwidth.gbps))} ms.`);
    L.push("", `![time vs batch](${s.svg})`, "");
  }
  const paired = run.shapes.filter((s) => s.paired?.length);
  if (paired.length) {
    L.push("## Paired ratios", "", "Each pair of peers in one process, timed in alternating blocks (bench/paired.mjs): B's time over A's per block, median and p10–p90 over blocks. The issue-15 goals below are decided on these where a pair ran; the tables above, each peer in its own processes, move with the machine's slow and fast spells.", "");
    L.push("| shape | A | B | engine | batch | A ms | B ms | B time / A time | blocks |", "|---|---|---|---|---:|---:|---:|---|---:|");
    for (const s of paired) for (const p of s.paired) for (const x of p.rows) L.push(`| ${s.name} | ${p.aLabel} | ${p.bLabel} | ${p.engine.split(" (")[0]} | ${x.batch} | ${f(x.aMs)} | ${f(x.bMs)} | ${x.ratio.toFixed(2)}× (${x.p10.toFixed(2)}–${x.p90.toFixed(2)}) | ${x.blocks} |`);
    L.push("");
  }
  if (run.unavailable.length) {
    L.push("## Not run", "");
    for (const u of run.unavailable) L.push(`- ${u.peer}: ${u.reason}`);
    L.push("");
  }
  if (run.goals.length) {
    L.push("## Issue 15 goals", "", "Where a pair ran in one process, a goal is decided on its paired median (p10–p90 over blocks in brackets); \"apart\" is the same ratio from the tables above.", "", "| goal | measured | met |", "|---|---|---|");
    for (const g of run.goals) L.push(`| ${g.goal} | ${g.measured} | ${g.met ? "yes" : "no"} |`);
    L.push("");
  }
  return L.join("\n");
}

/** Issue 15's goals that one compare run can decide (pool, int4 and decode have their own benches). */
export function goals(run) {
  const out = [];
  const at = (s, peer, b) => s?.rows.find((r) => r.peer === peer)?.results.find((x) => x.batch === b && x.median_ms);
  // B's time over A's from the paired runs, or undefined.
  const pair = (s, pa, pb, b) => s?.paired?.find((p) => p.a === pa && p.b === pb)?.rows.find((x) => x.batch === b);
  // What a goal is decided on: the paired ratio read as the goal reads it (`as`: a percent, an
  // inverse), with its spread and the per-process value beside it; without a pair, that value.
  const reading = (apart, paired, { as = (v) => v, digits = 2, unit = "×" } = {}) => {
    const t = (v) => v.toFixed(digits);
    if (!paired) return { value: apart, measured: `${t(apart)}${unit}` };
    const [lo, hi] = [as(paired.p10), as(paired.p90)].sort((u, v) => u - v);
    return { value: as(paired.ratio), measured: `${t(as(paired.ratio))}${unit} (${t(lo)}–${t(hi)}) paired; ${t(apart)}${unit} apart` };
  };
  const isa = { "sae-simd128": "simd128, Node 20", "sae-relaxed": "relaxed, Node 22" };
  for (const s of run.shapes.filter((x) => x.arch === "topk")) {
    for (const b of [16, 64]) {
      for (const peer of Object.keys(isa)) {
        const x = at(s, peer, b);
        if (x?.speedup_vs_ortweb_int8 !== undefined) {
          const r = reading(x.speedup_vs_ortweb_int8, pair(s, peer, "ortweb-int8", b));
          out.push({ goal: `${s.name} batch ${b}: ≥ 1.5× faster than ort-web int8 (${isa[peer]})`, measured: r.measured, met: r.value >= 1.5 });
        }
        // The multi-row pre-activation ceiling: the faster of sae-edge's preact and the C twin on this ISA, same batch.
        const ceilPeers = [`${peer}-preact`, peer.replace("sae-", "c-")];
        const ceil = ceilPeers.map((c) => at(s, c, b)).filter(Boolean).map((y) => y.median_ms);
        if (x && ceil.length) {
          const paired = ceilPeers.map((c) => pair(s, peer, c, b)).filter(Boolean);
          const worst = paired.length ? paired.reduce((w, y) => (y.ratio < w.ratio ? y : w)) : undefined;
          const r = reading((100 * Math.min(...ceil)) / x.median_ms, worst, { as: (v) => 100 * v, digits: 0, unit: "%" });
          out.push({ goal: `${s.name} batch ${b}: full encode ≥ 85% of the pre-activation ceiling (${isa[peer]})`, measured: r.measured, met: r.value >= 85 });
        }
      }
    }
  }
  // With --before: no row slower than the earlier build's beyond noise (its median over its p90).
  for (const s of run.shapes) {
    for (const peer of Object.keys(isa)) {
      for (const b of run.settings.batches) {
        const x = at(s, peer, b), was = at(s, `${peer}-before`, b);
        if (x && was) out.push({ goal: `${s.name} batch ${b}: not slower than --before (${isa[peer]})`, measured: `${(x.median_ms / was.median_ms).toFixed(2)}× its time (before: ${was.median_ms.toPrecision(3)} ms, p10–p90 ${was.p10_ms.toPrecision(3)}–${was.p90_ms.toPrecision(3)})`, met: x.median_ms <= was.p90_ms });
      }
    }
  }
  const big = run.shapes.find((x) => x.dIn === 768 && x.dSae === 24576);
  for (const peer of Object.keys(isa)) {
    const x = at(big, peer, 1);
    if (x?.speedup_vs_ortweb_int8 === undefined) continue;
    const r = reading(x.speedup_vs_ortweb_int8, pair(big, peer, "ortweb-int8", 1), { digits: 1 });
    out.push({ goal: `768x24576 batch 1: ≥ 10× faster than ort-web int8 (${isa[peer]})`, measured: r.measured, met: r.value >= 10 });
  }
  // The paired ratio is ort-node's time over ours; this goal reads ours over its.
  const x = at(big, "sae-relaxed", 1);
  if (x?.time_vs_ortnode_int8 !== undefined) {
    const r = reading(x.time_vs_ortnode_int8, pair(big, "sae-relaxed", "ortnode-int8", 1), { as: (v) => 1 / v });
    out.push({ goal: "768x24576 batch 1: time ≤ 1.2 × ort-node int8 (relaxed, Node 22)", measured: r.measured, met: r.value <= 1.2 });
  }
  // Candidate generation (the int4 screen); these are random weights: bench/int4-screen.mjs measures a trained SAE and recall.
  const y = at(big, "sae-relaxed-int4screen", 1);
  if (y?.time_vs_ortnode_int8 !== undefined) {
    const r = reading(1 / y.time_vs_ortnode_int8, pair(big, "sae-relaxed-int4screen", "ortnode-int8", 1));
    out.push({ goal: "768x24576 batch 1: faster than ort-node int8 with candidate generation (int4 screen, relaxed, Node 22; random weights)", measured: r.measured, met: r.value > 1 });
  }
  return out;
}

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#000000", "#aec7e8"];
const esc = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");

/** Log-log median time vs batch, one line per runtime (hand-written SVG, no dependency). */
export function svg(s) {
  const W = 860, H = 420, left = 60, right = 300, top = 30, bottom = 45;
  const pts = s.rows.map((r) => r.results.filter((x) => x.median_ms).map((x) => [x.batch, x.median_ms]));
  const all = pts.flat();
  if (!all.length) return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="60"><text x="10" y="30">no results</text></svg>`;
  const lx = (b) => Math.log2(b), ly = (t) => Math.log10(t);
  const [x0, x1] = [Math.min(...all.map((p) => lx(p[0]))), Math.max(...all.map((p) => lx(p[0])))];
  const [y0, y1] = [Math.floor(Math.min(...all.map((p) => ly(p[1])))), Math.ceil(Math.max(...all.map((p) => ly(p[1]))))];
  const X = (b) => left + ((lx(b) - x0) / (x1 - x0 || 1)) * (W - left - right);
  const Y = (t) => H - bottom - ((ly(t) - y0) / (y1 - y0 || 1)) * (H - top - bottom);
  const o = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`, `<rect width="${W}" height="${H}" fill="white"/>`];
  o.push(`<text x="${left}" y="18" font-size="13">${esc(`${s.name}: ${s.dIn}×${s.dSae} ${s.arch} — median time per call (ms, log) vs batch`)}</text>`);
  for (let e = y0; e <= y1; e++) {
    o.push(`<line x1="${left}" x2="${W - right}" y1="${Y(10 ** e)}" y2="${Y(10 ** e)}" stroke="#ddd"/>`, `<text x="${left - 6}" y="${Y(10 ** e) + 4}" text-anchor="end">${10 ** e >= 1 ? 10 ** e : (10 ** e).toPrecision(1)}</text>`);
  }
  for (const b of [...new Set(all.map((p) => p[0]))]) o.push(`<line x1="${X(b)}" x2="${X(b)}" y1="${top}" y2="${H - bottom}" stroke="#eee"/>`, `<text x="${X(b)}" y="${H - bottom + 15}" text-anchor="middle">${b}</text>`);
  o.push(`<text x="${(left + W - right) / 2}" y="${H - 8}" text-anchor="middle">batch (rows)</text>`);
  s.rows.forEach((r, i) => {
    const c = COLORS[i % COLORS.length];
    const p = pts[i];
    // sae-edge thick, the preact-only kernels (sae-edge's and the C twin's) dashed.
    const style = `stroke-width="${r.peer.startsWith("sae-") ? 3 : 1.5}"${r.output === "preact" ? ' stroke-dasharray="5,3"' : ""}`;
    if (p.length) o.push(`<polyline fill="none" stroke="${c}" ${style} points="${p.map(([b, t]) => `${X(b).toFixed(1)},${Y(t).toFixed(1)}`).join(" ")}"/>`, ...p.map(([b, t]) => `<circle cx="${X(b).toFixed(1)}" cy="${Y(t).toFixed(1)}" r="3" fill="${c}"/>`));
    o.push(`<rect x="${W - right + 12}" y="${top + i * 18}" width="12" height="3" fill="${c}" transform="translate(0,4)"/>`, `<text x="${W - right + 30}" y="${top + i * 18 + 9}">${esc(`${r.label}, ${r.engine.replace(/^node v(\d+).*/, "Node $1")}`)}</text>`);
  });
  o.push("</svg>");
  return o.join("\n");
}
