// onnxruntime-web (wasm EP, SIMD, 1 thread) and onnxruntime-node (native CPU, 1 thread) on the
// encoder graphs of onnx.mjs. Timing covers session.run: input tensor in, output read back.
// int8 runs as onnxruntime quantizes by default, u8 activations times s8 weights (U8S8), unless
// U8S8 disagrees with U8U8 (the same integer weights + 128, zero point 128, exact) on the first
// rows of d.x: onnxruntime's x86 U8S8 kernels multiply with VPMADDUBSW, whose i16 pair sums
// saturate on CPUs without VNNI (its quantization docs: "try U8U8"); then U8U8 runs, and the
// label says so.
import { int8Graph, f32Graph } from "./onnx.mjs";
import { version } from "./version.mjs";

// Rows compared, and how far apart (× the largest value) U8S8 and U8U8 may be: the same integer
// sums then meet the same float operations, so only saturation moves a value.
const PROBE_ROWS = 16;
const SAME = 1e-5;

/** flavor "web" | "node", graph "int8" | "f32"; d.x: rows (n × d.dIn) the peer will run. */
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
  const u8u8 = peer(await ort.InferenceSession.create(int8Graph({ ...d, Wq }, "u8"), options), " (U8U8: U8S8 saturates on this CPU)");
  const n = Math.min(PROBE_ROWS, d.x.length / d.dIn);
  const [a, b] = [await u8s8.run(d.x, n), await u8u8.run(d.x, n)];
  let scale = 0, diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  const saturates = !(diff <= SAME * scale);
  await (saturates ? u8s8 : u8u8).close();
  return saturates ? u8u8 : u8s8;
}
