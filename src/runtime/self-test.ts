// Runs the int8 encoder of a freshly instantiated build on a tiny model with
// known integer inputs and compares with the exact answer computed here.
// Weights span [-127, 127] and inputs [-63, 63], so a relaxed dot that is
// mis-lowered (wrong signedness, saturation, dropped accumulator) shows up.
import { type KernelExports } from "./abi.js";
import { placeTensors, wasmAlloc } from "./placement.js";
import type { ModelSpec } from "../model/spec.js";

const D_IN = 32;
const D_SAE = 4;
const SCALES = [1 / 64, 1 / 32, 1 / 128, 1 / 16];
const BIASES = [0.25, -0.5, 0, 1];

const wq = (j: number, i: number) => ((i * 37 + j * 91) % 255) - 127;
const ROWS = 5;
const xq = (i: number) => ((i * 29) % 127) - 63; // x[0] = -63, so the row scale is exactly 1
const xr = (r: number, i: number) => (r & 1 ? -1 : 1) * xq((i + 7 * r) % D_IN); // each row holds ±63 once

/** null if the build computes the known answer, else what went wrong. */
export async function selfTest(k: KernelExports): Promise<string | null> {
  const spec: ModelSpec = {
    architecture: "standard", dIn: D_IN, dSae: D_SAE, dOut: D_IN, skip: false, k: 0, applyBDecToInput: false,
    normalization: "none", quantization: "int8", provenance: {},
  };
  const packed = new Int8Array(D_SAE * D_IN); // one tile, two 16-wide steps: [c][l][t]
  for (let c = 0; c < D_IN / 16; c++) {
    for (let l = 0; l < D_SAE; l++) for (let t = 0; t < 16; t++) packed[(c * 4 + l) * 16 + t] = wq(l, c * 16 + t);
  }
  const tensors: Record<string, ArrayBufferView> = {
    W_enc_packed: packed,
    W_enc_scale: new Float32Array(SCALES),
    W_dec: new Int8Array(D_SAE * D_IN),
    W_dec_scale: new Float32Array(D_SAE),
    b_enc: new Float32Array(BIASES),
    b_dec: new Float32Array(D_IN),
  };
  const { m, ws } = await placeTensors(k, spec, tensors);
  // ROWS rows: the first four through the 4-row kernel, the last through the 1-row one.
  const x = wasmAlloc(k, ROWS * D_IN * 4);
  const out = wasmAlloc(k, ROWS * D_SAE * 4);
  const xv = new Float32Array(k.memory.buffer, x, ROWS * D_IN);
  for (let r = 0; r < ROWS; r++) for (let i = 0; i < D_IN; i++) xv[r * D_IN + i] = xr(r, i);
  k.preact(m, ws, x, ROWS, out);
  const got = new Float32Array(k.memory.buffer, out, ROWS * D_SAE);
  for (let r = 0; r < ROWS; r++) {
    for (let j = 0; j < D_SAE; j++) {
      let acc = 0;
      for (let i = 0; i < D_IN; i++) acc += wq(j, i) * xr(r, i);
      const want = Math.fround(Math.fround(Math.fround(acc) * Math.fround(SCALES[j])) + BIASES[j]);
      if (got[r * D_SAE + j] !== want) return `row ${r}, latent ${j}: got ${got[r * D_SAE + j]}, expected ${want}`;
    }
  }
  return null;
}
