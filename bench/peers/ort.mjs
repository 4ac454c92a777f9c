// onnxruntime-web (wasm EP, SIMD, 1 thread) and onnxruntime-node (native CPU, 1 thread) on the
// encoder graphs of onnx.mjs. Timing covers session.run: input tensor in, output read back.
// int8 runs as onnxruntime quantizes by default, u8 activations times s8 weights (U8S8), unless
// that fails the check rows here: onnxruntime's x86 U8S8 kernels multiply with VPMADDUBSW, whose
// i16 pair sums saturate on CPUs without VNNI (its quantization docs: "try U8U8"); then the same
// weights run as U8U8, and the label says so.
import { int8Graph, f32Graph } from "./onnx.mjs";
import { version } from "./version.mjs";
import { compare, TOL } from "../lib/check.mjs";

/** flavor "web" | "node", graph "int8" | "f32". */
export async function open(d, { flavor, graph }) {
  let ort, options;
  if (flavor === "web") {
    ort = await import("onnxruntime-web");
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.simd = true;
    options = { executionProviders: ["wasm"], graphOptimizationLevel: "all" };
  } else {
    ort = await import("onnxruntime-node");
    options = { executionProviders: ["cpu"], intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential", graphOptimizationLevel: "all" };
  }
  const outName = d.arch === "topk" ? "values" : "z";
  const output = d.arch === "topk" ? "topk" : "dense";
  const peer = (session, note) => ({
    label: `onnxruntime-${flavor} ${graph}${note}`,
    version: `onnxruntime-${flavor} ${version(`onnxruntime-${flavor}`)}`,
    output,
    async run(x, n) {
      const feeds = { x: new ort.Tensor("float32", x.subarray(0, n * d.dIn), [n, d.dIn]) };
      const out = await session.run(feeds);
      const data = out[outName].data;
      for (const t of Object.values(out)) t.dispose?.();
      return data;
    },
    async close() {
      await session.release();
    },
  });
  if (graph !== "int8") return peer(await ort.InferenceSession.create(f32Graph({ ...d, W: d.W() }), options), "");
  const Wq = d.Wq();
  const u8s8 = peer(await ort.InferenceSession.create(int8Graph({ ...d, Wq }), options), "");
  if (compare(d, output, await u8s8.run(d.x, d.checkRows), d.checkRows).relErr <= TOL.int8) return u8s8;
  await u8s8.close();
  return peer(await ort.InferenceSession.create(int8Graph({ ...d, Wq }, "u8"), options), " (U8U8: U8S8 saturates on this CPU)");
}
