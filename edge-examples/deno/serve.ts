// sae-edge under `deno serve`: the same HTTP API as the Cloudflare Worker (one Hono
// app from sae-edge/http), the model read from a file once per process.
//   deno serve --allow-read --allow-env --host 127.0.0.1 --port 8000 serve.ts
// SAE_MODEL picks the model file (default: the bundled MNIST model); API_TOKEN, if
// set, is the bearer token every /v1/* request needs.
import { loadSae, type Sae } from "sae-edge";
import { createApp } from "sae-edge/http";

// The repo's bundled model when this file sits in the repo; a copy of the folder needs SAE_MODEL.
const MODEL = Deno.env.get("SAE_MODEL") ?? new URL("../../models/mnist-topk-1024.safetensors", import.meta.url);
try {
  if (!Deno.statSync(MODEL).isFile) throw new Error("not a file");
} catch (e) {
  const what = Deno.env.get("SAE_MODEL") ? `SAE_MODEL ${MODEL}` : "the repo's models/mnist-topk-1024.safetensors (not beside this copy)";
  console.error(`serve.ts: ${what}: ${e instanceof Error ? e.message : e}; set SAE_MODEL=path/to/model.safetensors`);
  Deno.exit(2);
}
let model: Promise<Sae> | undefined;

export default createApp({
  sae: () => (model ??= loadSae(MODEL)),
  token: () => Deno.env.get("API_TOKEN"),
});
