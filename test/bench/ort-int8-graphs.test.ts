// bench/peers/onnx.mjs writes onnxruntime's int8 peer two ways: U8S8 (s8 weights, what
// onnxruntime's quantizer emits) and U8U8 (the same integers + 128, zero point 128), which
// bench/peers/ort.mjs runs where U8S8 saturates (x86 without VNNI). The U8U8 graph must compute
// the same integer sums: onnxruntime-web (no saturation in its wasm kernels) must give the same
// bits from both, and onnxruntime-node's U8U8 the same values, whatever this CPU has.
import { describe, it, expect } from "vitest";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { REPO } from "../helpers/common.mjs";

type Graph = (d: object, weights?: string) => Uint8Array;
const { int8Graph } = (await import(`${REPO}bench/peers/onnx.mjs`)) as { int8Graph: Graph };
const peers = createRequire(`${REPO}bench/peers/package.json`);
const load = async (name: string) => {
  const m = (await import(pathToFileURL(peers.resolve(name)).href)) as { default?: unknown };
  return (m.default ?? m) as Ort;
};
interface Ort {
  env: { wasm: { numThreads: number } };
  Tensor: new (type: string, data: Float32Array, dims: number[]) => unknown;
  InferenceSession: { create(bytes: Uint8Array, o: object): Promise<{ run(feeds: object): Promise<Record<string, { data: Float32Array }>>; release(): Promise<void> }> };
}

// A ReLU encoder whose weights use the whole int8 range, one sign per latent (so neighbouring
// inputs' products add up: the pattern that saturates VPMADDUBSW's 16-bit pair sums), half the
// latents positive; rows that use the whole u8 range after quantization.
const D_IN = 64, D_SAE = 256, ROWS = 8;
const Wq = Int8Array.from({ length: D_IN * D_SAE }, (_, i) => (i % D_SAE % 2 ? -1 : 1) * (i % 9 === 0 ? 0 : 127 - ((i * 31) % 40)));
const d = {
  dIn: D_IN, dSae: D_SAE, arch: "relu", Wq,
  b_dec: Float32Array.from({ length: D_IN }, (_, i) => 0.01 * (i % 5)),
  w_scale: Float32Array.from({ length: D_SAE }, (_, j) => 0.001 * (1 + (j % 7))),
  b_enc: Float32Array.from({ length: D_SAE }, (_, j) => -0.05 * (j % 3)),
};
const x = Float32Array.from({ length: ROWS * D_IN }, (_, i) => (i % D_IN < 32 ? 1 : 0.02 * ((i * 13) % 11)));

async function run(ort: Ort, bytes: Uint8Array, options: object): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, options);
  try {
    const out = await session.run({ x: new ort.Tensor("float32", x, [ROWS, D_IN]) });
    return Float32Array.from(out.z!.data);
  } finally {
    await session.release();
  }
}

describe("onnxruntime int8 peer graphs", () => {
  it("U8U8 gives U8S8's values: bit for bit in onnxruntime-web, to float rounding in onnxruntime-node", async () => {
    const web = await load("onnxruntime-web");
    web.env.wasm.numThreads = 1;
    const node = await load("onnxruntime-node");
    const webOptions = { executionProviders: ["wasm"], graphOptimizationLevel: "all" };
    const nodeOptions = { executionProviders: ["cpu"], intraOpNumThreads: 1, graphOptimizationLevel: "all" };
    const s8 = await run(web, int8Graph(d), webOptions);
    const u8 = await run(web, int8Graph(d, "u8"), webOptions);
    const active = s8.filter((v) => v > 0).length;
    expect(active, "some latents active, some not").toBeGreaterThan(ROWS * 10);
    expect(active).toBeLessThan(ROWS * D_SAE);
    expect(Array.from(u8), "onnxruntime-web: U8U8 vs U8S8").toEqual(Array.from(s8));
    const native = await run(node, int8Graph(d, "u8"), nodeOptions);
    const scale = Math.max(...s8);
    let worst = 0;
    for (let i = 0; i < s8.length; i++) worst = Math.max(worst, Math.abs(native[i]! - s8[i]!));
    expect(worst / scale, "onnxruntime-node U8U8 vs onnxruntime-web U8S8, × max value").toBeLessThan(1e-6);
  }, 60_000);
});
