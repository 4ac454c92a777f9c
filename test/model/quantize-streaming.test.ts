// `quantize` streams big checkpoints: the decoder, then the encoder, each read by range into one
// reused buffer, so peak memory is about one f32 matrix plus the int8 model, not the whole file.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildModel, buildModelStreamed, checkpointFolder, importCheckpoint, openCheckpoint, serializeModel, serializeModelParts, serializeSafetensors } from "../../src/adapters/node/index.js";
import { rng } from "../helpers/common.mjs";

const dir = mkdtempSync(join(tmpdir(), "sae-edge-stream-"));
const node = (...args: string[]) => spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 1 << 24 });
const makeGemmaScope = (folder: string, dModel: number, dSae: number) => {
  const r = node("test/helpers/make-big-gemmascope.mjs", folder, String(dModel), String(dSae));
  expect(r.status, r.stderr).toBe(0);
};

describe("streaming quantization", () => {
  it("quantizes a 151 MB Gemma Scope params.npz with peak RSS under 0.8 × the file + 80 MiB", () => {
    const folder = join(dir, "gs-2304x8192");
    makeGemmaScope(folder, 2304, 8192);
    const file = statSync(join(folder, "params.npz")).size;
    const r = node("--import", "./test/helpers/report-maxrss.mjs", "dist/cli.js", "quantize", folder, "-o", join(dir, "gs.safetensors"));
    expect(r.status, r.stderr).toBe(0);
    const maxRss = Number(/maxrss (\d+)/.exec(r.stderr)![1]);
    console.log(`quantize 2304×8192: file ${(file / 2 ** 20).toFixed(1)} MiB, peak RSS ${(maxRss / 2 ** 20).toFixed(1)} MiB`);
    // Holding the file (or both matrices) in memory would need > 1.0 × the file.
    expect(maxRss).toBeLessThan(0.8 * file + 80 * 2 ** 20);
    const info = node("dist/cli.js", "inspect", join(dir, "gs.safetensors"), "--json");
    expect(JSON.parse(info.stdout)).toMatchObject({ dIn: 2304, dSae: 8192, architecture: "jumprelu", quantization: "int8" });
  });

  it("quantizes sparsify's [num_latents, d_in] encoder as stored: the same model as transposing it in memory", async () => {
    const folder = join(dir, "sparsify-layer");
    mkdirSync(folder, { recursive: true });
    const [dIn, dSae] = [40, 96];
    const r = rng(9);
    const t = (shape: number[]) => ({ dtype: "F32" as const, shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() - 0.5) });
    writeFileSync(join(folder, "cfg.json"), JSON.stringify({ activation: "topk", d_in: dIn, num_latents: dSae, k: 6 }));
    writeFileSync(join(folder, "sae.safetensors"), serializeSafetensors({ "encoder.weight": t([dSae, dIn]), "encoder.bias": t([dSae]), W_dec: t([dSae, dIn]), b_dec: t([dIn]) }));
    for (const quant of ["int8", "f32"] as const) {
      const files = await checkpointFolder(folder);
      const streamed = await buildModelStreamed((await openCheckpoint(files)).weights, quant);
      await files.close?.();
      const inMemory = buildModel((await importCheckpoint(await checkpointFolder(folder))).weights, quant);
      expect(Buffer.concat(serializeModelParts(streamed)).equals(Buffer.from(serializeModel(inMemory))), quant).toBe(true);
    }
  });

  it("writes the same model as the in-memory path and reports every value read", async () => {
    const folder = join(dir, "gs-small");
    makeGemmaScope(folder, 40, 72);
    const files = await checkpointFolder(folder);
    const opened = await openCheckpoint(files);
    let values = 0;
    const streamed = await buildModelStreamed(opened.weights, "int8", {}, (n) => (values += n));
    await files.close?.();
    expect(values).toBe(2 * 40 * 72);
    const inMemory = buildModel((await importCheckpoint(await checkpointFolder(folder))).weights, "int8");
    const joined = Buffer.concat(serializeModelParts(streamed));
    expect(joined.equals(Buffer.from(serializeModel(inMemory)))).toBe(true);
  });
});
