// sae-edge under `deno serve`: the same HTTP API as the Cloudflare Worker (one Hono
// app from sae-edge/http), the model read from a file once per process.
//   deno serve --allow-read --allow-env --host 127.0.0.1 --port 8000 edge-examples/deno/serve.ts
// SAE_MODEL picks the model file (default: the bundled MNIST model); API_TOKEN, if
// set, is the bearer token every /v1/* request needs.
import { loadSae, type Sae } from "sae-edge";
import { createApp } from "sae-edge/http";

const MODEL = Deno.env.get("SAE_MODEL") ?? new URL("../../models/mnist-topk-1024.safetensors", import.meta.url);
let model: Promise<Sae> | undefined;

export default createApp({
  sae: () => (model ??= loadSae(MODEL)),
  token: () => Deno.env.get("API_TOKEN"),
});
