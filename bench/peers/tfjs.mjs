// TensorFlow.js with the wasm backend (XNNPACK, f32: tfjs has no int8 compute), 1 thread.
// Timing covers upload of x, the ops and dataSync() of the result.
import * as tf from "@tensorflow/tfjs-core";
import { setThreadsCount, getThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import { version } from "./version.mjs";

export async function open(d) {
  setThreadsCount(1);
  await tf.setBackend("wasm");
  await tf.ready();
  const W = tf.tensor2d(d.W(), [d.dIn, d.dSae]);
  const bDec = tf.tensor1d(d.b_dec);
  const bEnc = tf.tensor1d(d.b_enc);
  const bar = d.threshold ? tf.tensor1d(d.threshold.map((t) => Math.max(t, 0))) : null;
  const encode = (x) => {
    const h = tf.add(tf.matMul(tf.sub(x, bDec), W), bEnc);
    if (d.arch === "topk") return tf.relu(tf.topk(h, d.k, true).values);
    if (d.arch === "jumprelu") return tf.where(tf.greater(h, bar), h, tf.zerosLike(h));
    return tf.relu(h);
  };
  return {
    label: "tfjs-wasm f32",
    version: `tfjs-backend-wasm ${version("@tensorflow/tfjs-backend-wasm")} (${getThreadsCount()} thread)`,
    output: d.arch === "topk" ? "topk" : "dense",
    run(x, n) {
      return tf.tidy(() => encode(tf.tensor2d(x.subarray(0, n * d.dIn), [n, d.dIn])).dataSync());
    },
    close() {
      tf.dispose([W, bDec, bEnc, ...(bar ? [bar] : [])]);
    },
  };
}
