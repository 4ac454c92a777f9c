// What the fuzzer feeds and how: each format's seeds (built here from the library's own
// writers, or copied from test/fixtures, into fuzz/corpus/ by `npm run fuzz -- --make-corpus`),
// how one of its inputs is mutated, and how it is run. An input is a set of named parts (a
// checkpoint folder's files, an HTTP request and its body, an MQTT payload and its properties).
import { SaeEdgeError, fail } from "../src/base/errors.js";
import { bytesSource } from "../src/base/byte-source.js";
import { buildModel, serializeModel, type SaeWeights } from "../src/model/quantize.js";
import { serializeSafetensors } from "../src/format/safetensors.js";
import { serializeNpy, readMatrixF32 } from "../src/format/npy.js";
import { fileKind } from "../src/format/file-kind.js";
import { readTorchPt } from "../src/format/torch-pickle.js";
import { quantizeCheckpoint } from "../src/importers/quantize-checkpoint.js";
import type { CheckpointFiles } from "../src/importers/types.js";
import { loadSae, type Sae } from "../src/adapters/node/index.js";
import { createApp, type SaeApp } from "../src/http/app.js";
// @ts-expect-error: a plain ES module of the example, without types
import { parsePayload, PayloadError } from "../edge-examples/iot-gateway/payload.mjs";
import { int, mutateBytes, mutateJsonText, mutateNpy, mutatePickle, mutateSafetensors, mutateZip, pick, type Rng } from "./mutate.js";

export type Parts = Record<string, Uint8Array>;
/** How an input ended: "ok", or the typed refusal's code; anything untyped is thrown. */
export type Outcome = string;

export interface Target {
  /** Seeds by name, each a set of parts (written to fuzz/corpus/<format>/<name>/). */
  seeds(): Promise<Record<string, Parts>>;
  /** A mutated copy of `seed` (its other parts are kept as they are). */
  mutate(r: Rng, seed: Parts): Parts;
  run(input: Parts): Promise<Outcome>;
}

const enc = new TextEncoder();
const json = (v: unknown) => enc.encode(JSON.stringify(v));
const ramp = (n: number, s: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(1 + i * s));
const D_IN = 12, D_SAE = 20;

/** Tiny weights of each architecture the model format stores. */
function weights(architecture: SaeWeights["architecture"]): SaeWeights {
  return {
    architecture, dIn: D_IN, dSae: D_SAE, k: 3, applyBDecToInput: architecture !== "standard",
    W_enc: ramp(D_IN * D_SAE, 0.37), b_enc: ramp(D_SAE, 0.1), W_dec: ramp(D_SAE * D_IN, 0.21), b_dec: ramp(D_IN, 0.3),
    ...(architecture === "jumprelu" ? { threshold: ramp(D_SAE, 0.05).map(Math.abs) } : {}),
  };
}

function saelensFolder(architecture: string, extra: Record<string, unknown> = {}): Parts {
  const t = (shape: number[]) => ({ dtype: "F32" as const, shape, data: ramp(shape.reduce((a, b) => a * b, 1), 0.17 * shape.length) });
  const tensors: Record<string, ReturnType<typeof t>> = { W_enc: t([D_IN, D_SAE]), b_enc: t([D_SAE]), W_dec: t([D_SAE, D_IN]), b_dec: t([D_IN]) };
  if (architecture === "jumprelu") tensors.threshold = { ...t([D_SAE]), data: ramp(D_SAE, 0.1).map(Math.abs) };
  const cfg = {
    architecture, d_in: D_IN, d_sae: D_SAE, dtype: "float32", device: "cpu", apply_b_dec_to_input: true, normalize_activations: "none",
    metadata: { sae_lens_version: "6.5.0", model_name: "fuzz", hook_name: "blocks.0.hook_resid_post" },
    ...(architecture === "topk" ? { k: 4, rescale_acts_by_decoder_norm: false } : {}),
    ...extra,
  };
  return { "cfg.json": json(cfg), "sae_weights.safetensors": serializeSafetensors(tensors) };
}

/** Fixture folders of test/fixtures (real files written by numpy and torch.save). */
async function fixtures(folders: Record<string, string[]>): Promise<Record<string, Parts>> {
  const { readFile } = await import("node:fs/promises");
  const out: Record<string, Parts> = {};
  for (const [folder, names] of Object.entries(folders)) {
    out[folder] = Object.fromEntries(await Promise.all(names.map(async (n) => [n, new Uint8Array(await readFile(`test/fixtures/${folder}/${n}`))])));
  }
  return out;
}

function memoryFolder(parts: Parts): CheckpointFiles {
  const file = (name: string) => parts[name] ?? fail("CHECKPOINT_INVALID", `no file ${name}`);
  return { location: "fuzz", list: async () => Object.keys(parts), read: async (name) => file(name), open: async (name) => bytesSource(file(name)) };
}

/** A checkpoint folder through the importers (detection included) to an int8 model. */
async function quantizeFolder(parts: Parts): Promise<Outcome> {
  await quantizeCheckpoint(memoryFolder(parts));
  return "ok";
}

/** One part (chosen by name) changed by the mutator its name calls for. */
function mutatePart(r: Rng, seed: Parts, names = Object.keys(seed)): Parts {
  const name = pick(r, names);
  const out = { ...seed };
  let b = seed[name];
  for (let n = 1 + int(r, 2); n > 0; n--) b = mutateByName(r, name, b);
  out[name] = b;
  return out;
}

function mutateByName(r: Rng, name: string, b: Uint8Array): Uint8Array {
  if (name.endsWith(".safetensors")) return mutateSafetensors(r, b);
  if (name.endsWith(".json")) return mutateJsonText(r, b);
  if (name.endsWith(".npy")) return mutateNpy(r, b);
  if (name.endsWith(".npz")) return mutateZip(r, b, (rr, n, d) => (n.endsWith(".npy") ? mutateNpy(rr, d) : mutateBytes(rr, d)));
  if (name.endsWith(".pt")) {
    if (b[0] !== 0x50) return mutatePickle(r, b); // the legacy format: pickles one after another
    return mutateZip(r, b, (rr, n, d) => (n.endsWith("data.pkl") ? mutatePickle(rr, d) : mutateBytes(rr, d)));
  }
  if (name === "body" || name === "payload") return b[0] === 0x7b || b[0] === 0x5b ? mutateJsonText(r, b) : mutateBytes(r, b);
  return mutateBytes(r, b);
}

const folderTarget = (seeds: () => Promise<Record<string, Parts>>, mutated?: (name: string) => boolean): Target => ({
  seeds,
  mutate: (r, seed) => mutatePart(r, seed, mutated ? Object.keys(seed).filter(mutated) : undefined),
  run: quantizeFolder,
});

// ---- HTTP: requests to the app of src/http/app.ts, answered in-process ----
let app: SaeApp | undefined;
async function httpApp(): Promise<SaeApp> {
  if (!app) {
    const sae: Sae = await loadSae(serializeModel(buildModel(weights("topk"), "int8")));
    app = createApp({ sae: async () => sae, maxRows: 64 });
  }
  return app;
}

function request(path: string, body: unknown, headers: Record<string, string> = {}): Parts {
  const binary = body instanceof Uint8Array;
  return {
    "request.json": json({ method: "POST", path, headers: { "content-type": binary ? "application/octet-stream" : "application/json", ...headers } }),
    body: binary ? body : json(body),
  };
}

/** A request whose one row is long: more indices than d_sae, or far more values than d_in. */
function longRow(r: Rng, body: Uint8Array): Uint8Array {
  let v: { codes?: { indices: number[]; values: number[] }[]; inputs?: number[][] };
  try {
    v = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return body;
  }
  const n = pick(r, [D_SAE + 1, 1000, 300_001]);
  if (Array.isArray(v?.codes) && v.codes.length) v.codes[0] = { indices: Array.from({ length: n }, (_, e) => e % D_SAE), values: new Array(n).fill(0.5) };
  else if (Array.isArray(v?.inputs) && v.inputs.length) v.inputs[0] = new Array(n).fill(0.25);
  return json(v);
}

// ---- the targets ----
export const TARGETS: Record<string, Target> = {
  model: {
    seeds: async () => Object.fromEntries((["topk", "relu", "jumprelu", "standard"] as const).flatMap((a) =>
      (["int8", "f32"] as const).map((q) => [`${a}-${q}`, { "model.safetensors": serializeModel(buildModel(weights(a === "relu" ? "standard" : a), q)) }]))),
    mutate: (r, seed) => mutatePart(r, seed),
    async run(input) {
      const sae = await loadSae(input["model.safetensors"]);
      try {
        const dIn = sae.info.dIn;
        if (dIn <= 1 << 16) sae.decode(sae.encode(ramp(dIn, 0.3)));
      } finally {
        sae.dispose();
      }
      return "ok";
    },
  },
  saelens: folderTarget(async () => ({
    topk: saelensFolder("topk"), jumprelu: saelensFolder("jumprelu"), standard: saelensFolder("standard", { normalize_activations: "layer_norm" }),
  })),
  cfg: folderTarget(async () => ({
    "saelens-topk": saelensFolder("topk"), "saelens-v5": saelensFolder("standard", { sae_lens_version: "5.0.0", activation_fn_str: "relu", finetuning_scaling_factor: false }),
    ...(await fixtures({ "dictlearn-topk": ["ae.pt", "config.json"] })),
  }), (name) => name.endsWith(".json")),
  npy: {
    seeds: async () => ({
      f32: { "x.npy": serializeNpy(ramp(24, 0.5), [4, 6]) },
      f64: { "x.npy": serializeNpy(Float64Array.from(ramp(6, 0.5)), [6]) },
      fortran: { "x.npy": (() => { const b = serializeNpy(ramp(6, 0.5), [2, 3]); b.set(enc.encode("True "), Buffer.from(b).indexOf("False")); return b; })() },
    }),
    mutate: (r, seed) => mutatePart(r, seed),
    async run(input) {
      const bytes = input["x.npy"];
      await fileKind(bytesSource(bytes));
      readMatrixF32(bytes, "x.npy");
      return "ok";
    },
  },
  npz: folderTarget(() => fixtures({
    gemmascope: ["params.npz"], "gemmascope-deflate": ["params.npz"], "gemmascope-zip64": ["params.npz"], "gemmascope-fortran-deflate": ["params.npz"],
  })),
  pt: {
    seeds: () => fixtures({
      "torch-sae": ["sae.pt"], "torch-strides": ["sae.pt"], "dictlearn-topk": ["ae.pt", "config.json"], "openai-topk": ["5.pt"], "hostile-legacy": ["evil.pt"],
    }),
    mutate: (r, seed) => mutatePart(r, seed, Object.keys(seed).filter((n) => n.endsWith(".pt"))),
    async run(input) {
      // The reader alone (any pickle), then the importers on the folder.
      for (const [name, bytes] of Object.entries(input)) if (name.endsWith(".pt")) readTorchPt(bytes, name);
      return quantizeFolder(input);
    },
  },
  http: {
    seeds: async () => ({
      encode: request("/v1/encode", { inputs: [Array.from(ramp(D_IN, 0.4)), Array.from(ramp(D_IN, 0.9))] }),
      "encode-binary": request("/v1/encode", new Uint8Array(ramp(2 * D_IN, 0.4).buffer), { "x-rows": "2" }),
      decode: request("/v1/decode", { codes: [{ indices: [1, 5, 7], values: [0.5, 1.5, -2] }, { indices: [], values: [] }] }),
      "decode-binary": request("/v1/decode", new Uint8Array(ramp(D_SAE, 0.2).buffer), { "x-rows": "1" }),
      score: request("/v1/score", { inputs: [Array.from(ramp(D_IN, 0.4))] }),
      info: { "request.json": json({ method: "GET", path: "/v1/info", headers: {} }), body: new Uint8Array(0) },
    }),
    mutate(r, seed) {
      if (r() < 0.2) { // the request line or its headers
        const out = { ...seed, "request.json": mutateJsonText(r, seed["request.json"]) };
        return out;
      }
      if (r() < 0.15) return { ...seed, body: longRow(r, seed.body) };
      return mutatePart(r, seed, ["body"]);
    },
    async run(input) {
      let req: { method?: unknown; path?: unknown; headers?: unknown };
      let request: Request;
      try {
        req = JSON.parse(new TextDecoder().decode(input["request.json"]));
        const method = typeof req.method === "string" ? req.method : "POST";
        request = new Request(`http://fuzz${typeof req.path === "string" && req.path.startsWith("/") ? req.path : "/v1/encode"}`, {
          method, headers: (req.headers && typeof req.headers === "object" ? req.headers : {}) as Record<string, string>,
          body: method === "GET" || method === "HEAD" ? undefined : (input.body as Uint8Array<ArrayBuffer>),
        });
      } catch {
        return "BAD_REQUEST_LINE"; // not a request any client could send
      }
      const res = await (await httpApp()).fetch(request);
      const text = await res.text();
      if (res.status >= 500) throw new Error(`HTTP ${res.status}: ${text.slice(0, 300)}`);
      return res.status === 200 ? "ok" : `HTTP_${res.status}`;
    },
  },
  mqtt: {
    seeds: async () => ({
      array: { payload: json(Array.from(ramp(8, 0.3))), "properties.json": json({}) },
      object: { payload: json({ seq: 7, values: Array.from(ramp(8, 0.3)) }), "properties.json": json({ payloadFormatIndicator: true }) },
      number: { payload: json(1.5), "properties.json": json({ contentType: "application/json", userProperties: { seq: "3" } }) },
      binary: { payload: new Uint8Array(ramp(8, 0.3).buffer), "properties.json": json({ contentType: "application/octet-stream" }) },
    }),
    mutate: (r, seed) => mutatePart(r, seed),
    async run(input) {
      let properties: unknown;
      try {
        properties = JSON.parse(new TextDecoder().decode(input["properties.json"]));
      } catch {
        properties = {};
      }
      try {
        parsePayload(Buffer.from(input.payload), properties ?? {});
      } catch (e) {
        if (e instanceof PayloadError) return "PAYLOAD_ERROR";
        throw e;
      }
      return "ok";
    },
  },
};

export const FORMATS = Object.keys(TARGETS);

/** "ok" or a typed refusal's code; an untyped error is rethrown. */
export async function runInput(format: string, input: Parts): Promise<Outcome> {
  try {
    return await TARGETS[format].run(input);
  } catch (e) {
    if (e instanceof SaeEdgeError) return e.code;
    throw e;
  }
}
