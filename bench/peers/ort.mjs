// onnxruntime-web (wasm EP, SIMD, 1 thread) and onnxruntime-node (native CPU, 1 thread) on the
// encoder graphs of onnx.mjs. Timing covers session.run: input tensor in, output read back.
import { int8Graph, f32Graph } from "./onnx.mjs";
import { version } from "./version.mjs";

/** flavor "web" | "node", graph "int8" | "f32". */
export async function open(d, { flavor, graph }) {
  const bytes = graph === "int8" ? int8Graph({ ...d, Wq: d.Wq() }) : f32Graph({ ...d, W: d.W() });
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
  const session = await ort.InferenceSession.create(bytes, options);
  const outName = d.arch === "topk" ? "values" : "z";
  return {
    label: `onnxruntime-${flavor} ${graph}`,
    version: `onnxruntime-${flavor} ${version(`onnxruntime-${flavor}`)}`,
    output: d.arch === "topk" ? "topk" : "dense",
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
  };
}
