// Loads the C twin (enc_i8_<isa>.wasm, built by build.sh) with sae-edge's packed int8 weights and
// computes pre-activations; timing covers copying x in, the kernel and copying the result out.
import { readFileSync, existsSync } from "node:fs";

export const wasmPath = (isa) => new URL(`./enc_i8_${isa}.wasm`, import.meta.url);

export async function open(d, { isa, relaxedDot }) {
  if (!existsSync(wasmPath(isa))) throw new Error(`bench/c/enc_i8_${isa}.wasm missing: run bench/c/build.sh`);
  if (d.dIn % 16 || d.dSae % 4) throw new Error("the C twin needs d_in % 16 == 0 and d_sae % 4 == 0");
  const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath(isa)), {});
  const k = instance.exports;
  const put = (arr) => {
    const p = k.alloc(arr.byteLength) >>> 0;
    if (!p) throw new Error("C twin: out of wasm memory");
    new Uint8Array(k.memory.buffer, p, arr.byteLength).set(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
    return p;
  };
  k.setup(put(d.Wp()), put(d.w_scale), put(d.b_enc), put(d.b_dec), d.dIn, d.dSae);
  // The relaxed build's inner loop: the one sae-edge's probe picks on this engine (or relaxedDot).
  const { probeRelaxedDot } = await import("../../dist/node.js");
  const dot = isa === "relaxed" ? (relaxedDot ?? probeRelaxedDot()) : null;
  if (dot) k.use_fused_dot(dot === "fused" ? 1 : 0);
  const rows = d.rows;
  const xp = k.alloc(rows * d.dIn * 4) >>> 0;
  const op = k.alloc(rows * d.dSae * 4) >>> 0;
  return {
    label: `C wasm ${isa} preact`,
    relaxedDot: dot,
    version: `clang (${isa}), node ${process.version}`,
    output: "preact",
    exports: k,
    scratch: op,
    run(x, n) {
      new Float32Array(k.memory.buffer, xp, n * d.dIn).set(x.subarray(0, n * d.dIn));
      k.preact(xp, n, op);
      return new Float32Array(k.memory.buffer, op, n * d.dSae).slice();
    },
  };
}
