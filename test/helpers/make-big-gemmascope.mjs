// Writes a Gemma Scope params.npz of the given shape (stored members, as np.savez
// writes them) without holding it in memory: fflate's streaming zip, 1 MiB chunks.
//   node test/helpers/make-big-gemmascope.mjs <folder> <d_model> <d_sae>
import { createWriteStream, mkdirSync } from "node:fs";
import { join } from "node:path";
import { Zip, ZipPassThrough } from "fflate";
import { rng, gaussian } from "./common.mjs";

const [folder, dModel, dSae] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
mkdirSync(folder, { recursive: true });
const out = createWriteStream(join(folder, "params.npz"));
let pending = Promise.resolve();
const zip = new Zip((err, chunk) => {
  if (err) throw err;
  pending = pending.then(() => new Promise((res) => (out.write(chunk) ? res() : out.once("drain", res))));
});

function npyHeader(shape) {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""}), }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const h = new Uint8Array(total).fill(0x20);
  h.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(h.buffer).setUint16(8, total - 10, true);
  h.set(new TextEncoder().encode(dict), 10);
  h[total - 1] = 0x0a;
  return h;
}

async function member(name, shape, value) {
  const file = new ZipPassThrough(`${name}.npy`);
  zip.add(file);
  file.push(npyHeader(shape));
  const n = shape.reduce((a, b) => a * b, 1);
  const chunk = new Float32Array(1 << 18);
  for (let done = 0; done < n; done += chunk.length) {
    const m = Math.min(chunk.length, n - done);
    for (let i = 0; i < m; i++) chunk[i] = value(done + i);
    file.push(new Uint8Array(chunk.buffer, 0, m * 4).slice(), done + m >= n);
    await pending;
  }
}

const g = gaussian(rng(11));
const scale = 1 / Math.sqrt(dModel);
await member("W_enc", [dModel, dSae], () => g() * scale);
await member("W_dec", [dSae, dModel], () => g() * scale);
await member("threshold", [dSae], () => 0.05);
await member("b_enc", [dSae], () => 0);
await member("b_dec", [dModel], () => 0);
zip.end();
await pending;
await new Promise((res) => out.end(res));
