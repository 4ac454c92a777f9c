// `npm start`: the planted-dictionary job on the bundled default. Builds the
// problem, quantizes its SAE to int8 (and keeps an exact f32 twin), encodes every
// row and prints how well the atoms come back, and how fast.
import { buildModel, serializeModel } from "../model/quantize.js";
import { loadSae } from "../adapters/node/index.js";
import type { KernelName } from "../runtime/index.js";
import { atomRecovery, plantedProblem, PLANTED_DEFAULTS } from "../demo/planted.js";
import { ReconstructionMetricsAccumulator } from "../metrics/reconstruction.js";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

function timeIt(fn: () => void, minMs = 300): number[] {
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 5 || performance.now() - start < minMs) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return times;
}

export async function runDemo(kernel?: KernelName, out: (line: string) => void = console.log): Promise<void> {
  const o = PLANTED_DEFAULTS;
  const p = plantedProblem(o);
  out(`sae-edge demo: planted dictionary, d_in=${o.dIn}, d_sae=${o.dSae}, ${o.k} atoms per row, ${o.rows} rows, noise ${o.noise}, seed ${o.seed}`);
  out("");
  out("model  kernel   file      recovery  FVU       L0     rows/s    batch-1 µs/row");
  for (const quant of ["int8", "f32"] as const) {
    const bytes = serializeModel(buildModel(p.weights, quant, { source_format: "planted-demo", seed: o.seed }));
    const sae = await loadSae(bytes, { kernel });
    const codes = sae.encode(p.x);
    const recon = sae.decode(codes);
    const recovery = atomRecovery(p.truth, o.k, codes.rowOffsets, codes.indices);
    const metrics = new ReconstructionMetricsAccumulator(o.dIn, o.dSae);
    metrics.add(p.x, recon, codes);
    const { fvu } = metrics.result();
    const l0 = codes.indices.length / p.rows;
    const batch = median(timeIt(() => sae.encode(p.x)));
    const one = p.x.subarray(0, o.dIn);
    const single = median(timeIt(() => sae.encode(one), 200));
    out(
      `${quant.padEnd(6)} ${sae.info.kernel.padEnd(8)} ${(bytes.length / 2 ** 20).toFixed(1).padStart(5)} MB  ` +
        `${(recovery * 100).toFixed(2).padStart(6)}%  ${fvu.toExponential(2).padEnd(8)}  ${l0.toFixed(2).padStart(5)}  ` +
        `${Math.round(p.rows / (batch / 1000)).toString().padStart(7)}   ${(single * 1000).toFixed(1).padStart(8)}`,
    );
    sae.dispose();
  }
  out("");
  out("recovery: planted atoms found among each row's TopK codes; FVU: fraction of variance unexplained; L0: active latents per row.");
}
