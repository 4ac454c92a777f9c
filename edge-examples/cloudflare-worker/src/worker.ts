// sae-edge on Cloudflare Workers: the shared HTTP API (sae-edge/http) over a model
// that is loaded once per isolate. "sae-edge" resolves to the Workers entry, whose
// kernel builds are static .wasm imports (Workers cannot compile wasm at run time).
// The model is the bundled Data module, or, when MODEL_KEY is set, an object in the
// MODEL_BUCKET R2 binding read tensor by tensor into wasm memory (for big models:
// no second copy of the weights in the isolate).
import { loadSae, r2Source, type R2BucketLike, type Sae } from "sae-edge";
import { createApp } from "sae-edge/http";
import bundledModel from "../../../models/mnist-topk-1024.safetensors";

interface Env {
  /** Optional secret: requests then need Authorization: Bearer <API_TOKEN>. */
  API_TOKEN?: string;
  /** R2 object key of the model; unset = the bundled model. */
  MODEL_KEY?: string;
  MODEL_BUCKET?: R2BucketLike;
}

let model: Promise<Sae> | undefined; // one per isolate

function getSae(env: Env): Promise<Sae> {
  model ??= (async () => {
    if (env.MODEL_KEY && env.MODEL_BUCKET) return loadSae(await r2Source(env.MODEL_BUCKET, env.MODEL_KEY));
    return loadSae(new Uint8Array(bundledModel));
  })();
  model.catch(() => (model = undefined)); // a failed load is retried by the next request
  return model;
}

export default createApp({
  sae: (c) => getSae(c.env as Env),
  token: (c) => (c.env as Env).API_TOKEN,
});
