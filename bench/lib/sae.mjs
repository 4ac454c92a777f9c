// sae-edge through its public Node API (dist/node.js), one forced kernel build.
// "encode": the full encoder (sparse codes, TopK with rescoring); "preact": dense pre-activations
// only, the same work as the C twin (quantize the row, int8 GEMV, scale and bias).
// before: the same through another build's dist/node.js (compare.mjs --before), to see in one run
// whether a change made any row slower. screen "int4": the model with an int4 screen (addInt4Screen).
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

export async function open(d, { kernel, mode, before = false, screen }) {
  const { loadSae, addInt4Screen } = await import(before ? pathToFileURL(process.env.SAE_EDGE_BEFORE).href : "../../dist/node.js");
  const sae = await loadSae(screen === "int4" ? addInt4Screen(new Uint8Array(readFileSync(d.modelPath))) : d.modelPath, { kernel });
  const base = { version: `node ${process.version} (V8 ${process.versions.v8})`, close: () => sae.dispose() };
  if (before) kernel += " before";
  if (screen) kernel += ` ${screen} screen`;
  if (mode === "preact") {
    return { ...base, label: `sae-edge ${kernel} preact`, output: "preact", run: (x, n) => sae.preActivations(x.subarray(0, n * d.dIn), n) };
  }
  return {
    ...base,
    label: `sae-edge ${kernel}`,
    output: d.arch === "topk" ? "topk" : "dense",
    run: (x, n) => sae.encode(x.subarray(0, n * d.dIn), n),
    // CSR codes to what the check compares: top-k values sorted (topk) or dense rows.
    normalize(codes, n) {
      const width = d.arch === "topk" ? d.k : d.dSae;
      const out = new Float32Array(n * width);
      for (let r = 0; r < n; r++) {
        const a = codes.rowOffsets[r], b = codes.rowOffsets[r + 1];
        if (d.arch === "topk") out.set(Array.from(codes.values.subarray(a, b)).sort((p, q) => q - p), r * width);
        else for (let e = a; e < b; e++) out[r * width + codes.indices[e]] = codes.values[e];
      }
      return out;
    },
  };
}
