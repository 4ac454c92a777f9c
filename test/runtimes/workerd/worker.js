// workerd runner: the package as wrangler resolves it for Workers (the "workerd"
// export: kernel builds imported statically as compiled modules), the vectors and
// the 768 x 24576 model bundled as Data modules.
//   GET /probe      runProbe over the vectors, plus the big model's codes hash
//   GET /bench?n=N  N batch-1 encodes of the big model (workerd's clock stands
//                   still during a request, so the host times n=1 against n=201)
import * as lib from "sae-edge";
import vectors from "../.cache/vectors.bin";
import bigModel from "../.cache/big.safetensors";
import { readVectors } from "../vectors-format.js";
import { runProbe } from "../probe.js";

let big; // loaded once per isolate
const bigX = readVectors(vectors).bigX;
const json = (o) => new Response(JSON.stringify(o), { headers: { "content-type": "application/json" } });

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/healthz") return new Response("ok");
    big ??= await lib.loadSae(bigModel);
    if (url.pathname === "/probe") {
      const result = await runProbe({ lib, vectors });
      const codes = big.encode(bigX, 1);
      const bytes = [codes.rowOffsets, codes.indices, codes.values].map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
      const all = new Uint8Array(bytes.reduce((s, b) => s + b.length, 0));
      bytes.reduce((at, b) => (all.set(b, at), at + b.length), 0);
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
      const bigHash = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
      return json({ version: `workerd ${navigator.userAgent}`, ...result, bigKernel: big.info.kernel, bigHash });
    }
    if (url.pathname === "/bench") {
      const n = Math.min(1000, Number(url.searchParams.get("n") ?? 1));
      for (let i = 0; i < n; i++) big.encode(bigX, 1);
      return json({ n, kernel: big.info.kernel });
    }
    return new Response("not found", { status: 404 });
  },
};
