// Turns raw timings into the derived columns: ms/row, GOPS, the roofline time and the ratios.
// Roofline time for one case = max(int8 weight bytes / read bandwidth over that many bytes,
// 2 · d_in · d_sae · batch / inner-loop ceiling), with the ceiling of the engine's ISA (relaxed
// for the relaxed builds, SIMD128 for every other peer, native ones included) and of the 1-row
// loop at batch 1, the 4-row loop at batch >= 4.

export const RELAXED_PEERS = new Set(["sae-relaxed", "sae-relaxed-preact", "sae-relaxed-before", "c-relaxed"]);

export function ceilingGops(roof, peer, batch) {
  const c = RELAXED_PEERS.has(peer) && roof.relaxed ? roof.relaxed : roof.simd128;
  return batch >= 4 ? c.rows4_gops : c.rows1_gops;
}

/**
 * What one encode moves and computes, to estimate another device's time from its own bandwidth:
 * the int8 encoder weights and per-latent scale and bias (f32) are read once per pass over the
 * weights (once per call at batch 1), each row adds its f32 input and its codes (index and value).
 */
export function work(shape) {
  const codes = shape.arch === "topk" ? shape.k : shape.dSae;
  return {
    opsPerRow: 2 * shape.dIn * shape.dSae,
    bytesPerPass: shape.dIn * shape.dSae + 8 * shape.dSae,
    bytesPerRow: 4 * shape.dIn + 8 * codes,
  };
}

/** Published sequential-read bandwidths (GB/s) of edge boards, for the memory-bound estimate. */
export const DEVICES = [
  { name: "Raspberry Pi 4", gbps: 5.5, source: "STREAM copy, sci-pi.org.uk/bench/stream.html" },
  { name: "Raspberry Pi 5", gbps: 9.1, source: "tinymembench C scan 64, raspberrypi/firmware#1876" },
];

/** Lower bound (ms) of a batch-1 encode on a device whose weights stream from DRAM: bytes / bandwidth. */
export function memoryBoundMs(shape, gbps) {
  const w = work(shape);
  return (w.bytesPerPass + w.bytesPerRow) / (gbps * 1e6);
}

export function derive(shape, roof, bwGbps, rows) {
  shape.work = work(shape);
  const ops = shape.work.opsPerRow;
  const find = (id, b) => rows.find((r) => r.peer === id)?.results.find((x) => x.batch === b && x.median_ms);
  for (const row of rows) {
    for (const r of row.results) {
      if (!r.median_ms) continue;
      const compute = (ops * r.batch) / (ceilingGops(roof, row.peer, r.batch) * 1e6);
      const memory = (shape.dIn * shape.dSae) / (bwGbps * 1e6);
      r.ms_per_row = r.median_ms / r.batch;
      r.gops = (ops * r.batch) / (r.median_ms * 1e6);
      r.roofline_ms = Math.max(compute, memory);
      r.roofline_bound = compute >= memory ? "compute" : "memory";
      r.pct_roofline = (100 * r.roofline_ms) / r.median_ms;
      const web = find("ortweb-int8", r.batch), native = find("ortnode-int8", r.batch);
      if (web) r.speedup_vs_ortweb_int8 = web.median_ms / r.median_ms;
      if (native) r.time_vs_ortnode_int8 = r.median_ms / native.median_ms;
    }
  }
}
