// PyTorch checkpoints written by torch.save itself (test/fixtures/make_torch.py): plain
// SparseAutoencoder, dictionary_learning, OpenAI. Codes and reconstructions must match what
// each project's own forward pass computed in torch (saved beside each fixture as .npy).
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { zipSync, unzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { buildModel, checkpointFolder, importCheckpoint, loadSae, serializeModel } from "../../src/adapters/node/index.js";
import { readTorchPt } from "../../src/format/torch-pickle.js";

const FIX = "test/fixtures";
function npy(path: string): { shape: number[]; data: Float32Array } {
  const b = new Uint8Array(readFileSync(path));
  const len = b[8] | (b[9] << 8);
  const header = new TextDecoder().decode(b.subarray(10, 10 + len));
  expect(header).toMatch(/'descr': '<f4'/);
  const shape = (/'shape': \(([^)]*)\)/.exec(header)![1].match(/\d+/g) ?? []).map(Number);
  return { shape, data: new Float32Array(b.slice(10 + len).buffer) };
}

const cases: [string, string, string][] = [
  ["torch-sae", "torch", "standard"],
  ["torch-strides", "torch", "standard"],
  ["dictlearn-standard", "dictlearn", "standard"],
  ["dictlearn-topk", "dictlearn", "topk"],
  ["dictlearn-batchtopk", "dictlearn", "jumprelu"],
  ["dictlearn-jumprelu", "dictlearn", "jumprelu"],
  ["dictlearn-gated", "dictlearn", "gated"],
  ["openai-relu", "openai", "standard"],
  ["openai-topk", "openai", "topk"], // layer-normalized inputs, undone on decode
];

describe.each(cases)("%s", (folder, family, architecture) => {
  it(`loads as ${family} ${architecture} and matches torch's own forward pass (f32), int8 within fidelity`, async () => {
    const imported = await importCheckpoint(await checkpointFolder(join(FIX, folder)));
    expect(imported.family).toBe(family);
    expect(imported.weights.architecture).toBe(architecture);
    const x = npy(join(FIX, folder, "x.npy")), z = npy(join(FIX, folder, "z.npy")), xhat = npy(join(FIX, folder, "xhat.npy"));
    const exact = await loadSae(serializeModel(buildModel(imported.weights, "f32")));
    const gotZ = exact.encodeDense(x.data);
    const scale = Math.max(...Array.from(z.data, Math.abs));
    for (let i = 0; i < z.data.length; i++) expect(Math.abs(gotZ[i] - z.data[i]), `z[${i}]`).toBeLessThan(1e-5 * scale + 1e-6);
    const gotX = exact.forward(x.data).reconstruction;
    for (let i = 0; i < xhat.data.length; i++) expect(gotX[i]).toBeCloseTo(xhat.data[i], 4);
    // int8: the fidelity criterion, FVU within 2% (relative) of the exact path's.
    const q = await loadSae(serializeModel(buildModel(imported.weights, "int8")));
    const qx = q.forward(x.data).reconstruction;
    const fvu = (r: Float32Array) => {
      const d = imported.weights.dIn, n = x.data.length / d;
      const mean = new Float64Array(d);
      for (let i = 0; i < x.data.length; i++) mean[i % d] += x.data[i] / n;
      let e = 0, v = 0;
      for (let i = 0; i < x.data.length; i++) {
        e += (x.data[i] - r[i]) ** 2;
        v += (x.data[i] - mean[i % d]) ** 2;
      }
      return e / v;
    };
    console.log(`${folder}: FVU f32 ${fvu(gotX).toFixed(4)}, int8 ${fvu(qx).toFixed(4)}`);
    expect(fvu(qx)).toBeLessThanOrEqual(1.02 * fvu(gotX));
  });
});

describe("refusing what is not a state dict", () => {
  it("a pickle that names os.system is refused and nothing runs", async () => {
    const bytes = new Uint8Array(readFileSync(join(FIX, "hostile", "evil.pt")));
    expect(() => readTorchPt(bytes, "evil.pt")).toThrow(expect.objectContaining({ code: "CHECKPOINT_INVALID", message: expect.stringMatching(/refuses to load global (posix|os)\.system/) }));
    const r = spawnSync(process.execPath, ["dist/cli.js", "quantize", join(FIX, "hostile"), "--from", "torch", "-o", "/tmp/never.safetensors"], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/refuses to load global/);
    expect(existsSync("/tmp/sae-edge-pwned")).toBe(false);
  });

  it("broken archives, path tricks, truncated pickles and storages that do not fit", () => {
    const good = new Uint8Array(readFileSync(join(FIX, "torch-sae", "sae.pt")));
    const members = unzipSync(good);
    expect(() => readTorchPt(good.subarray(0, 200), "cut.pt")).toThrow(expect.objectContaining({ code: "CHECKPOINT_INVALID" }));
    expect(() => readTorchPt(zipSync({ "../sae/data.pkl": members["sae/data.pkl"] }), "trick.pt")).toThrow(expect.objectContaining({ code: "CHECKPOINT_INVALID", message: expect.stringContaining("not a plain path") }));
    const pkl = members["sae/data.pkl"];
    expect(() => readTorchPt(zipSync({ ...members, "sae/data.pkl": pkl.subarray(0, pkl.length - 20) }), "short.pt")).toThrow(expect.objectContaining({ code: "CHECKPOINT_INVALID" }));
    expect(() => readTorchPt(zipSync({ ...members, "sae/data/0": members["sae/data/0"].subarray(0, 8) }), "small.pt")).toThrow(expect.objectContaining({ code: "CHECKPOINT_INVALID", message: expect.stringContaining("storage 0") }));
  });

  it("the legacy (non-zip) stream goes through the same allow-list, and a cut one is refused", () => {
    const evil = new Uint8Array(readFileSync(join(FIX, "hostile-legacy", "evil.pt")));
    expect(() => readTorchPt(evil, "evil.pt")).toThrow(expect.objectContaining({ code: "CHECKPOINT_INVALID", message: expect.stringMatching(/refuses to load global (posix|os)\.system/) }));
    expect(existsSync("/tmp/sae-edge-pwned")).toBe(false);
    const legacy = new Uint8Array(readFileSync(join(FIX, "upstream", "torch", "state-dict-legacy-format", "model.pt")));
    expect(readTorchPt(legacy, "model.pt")).toBeInstanceOf(Map);
    for (const cut of [20, 200, legacy.length - 3]) expect(() => readTorchPt(legacy.subarray(0, cut), "cut.pt"), `cut at ${cut}`).toThrow(expect.objectContaining({ code: "CHECKPOINT_INVALID" }));
    expect(() => readTorchPt(new TextEncoder().encode("not a checkpoint"), "x.pt")).toThrow(expect.objectContaining({ code: "CHECKPOINT_INVALID", message: expect.stringContaining("not a PyTorch checkpoint") }));
  });

  it("a whole pickled module is refused by name, from the CLI too (exit 2, one line)", () => {
    const r = spawnSync(process.execPath, ["dist/cli.js", "quantize", join(FIX, "upstream", "torch", "whole-module"), "-o", "/tmp/never.safetensors"], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("model.pt holds a pickled module `__main__.SparseAutoencoder`, not a state_dict: save it with torch.save(model.state_dict(), path)");
  });
});

describe("options upstream's loaders check, checked here too", () => {
  const copy = (from: string, edit: (files: Map<string, Uint8Array>) => void) => {
    const dir = mkdtempSync(join(tmpdir(), "sae-edge-torch-"));
    const files = new Map(readdirSync(from).map((n) => [n, new Uint8Array(readFileSync(join(from, n)))]));
    edit(files);
    for (const [n, b] of files) writeFileSync(join(dir, n), b);
    return dir;
  };

  it("dictionary_learning: a config k that disagrees with the state dict's is refused, as from_pretrained does", async () => {
    const dir = copy(join(FIX, "upstream", "dictlearn", "topk"), (f) => {
      const cfg = JSON.parse(new TextDecoder().decode(f.get("config.json")));
      cfg.trainer.k = 5;
      f.set("config.json", new TextEncoder().encode(JSON.stringify(cfg)));
    });
    await expect(importCheckpoint(await checkpointFolder(dir))).rejects.toMatchObject({ code: "CHECKPOINT_INVALID", message: expect.stringContaining("k=4, but config.json says k=5") });
  });

  it("a state dict entry no importer reads is reported (warning and provenance), not dropped", async () => {
    const imp = await importCheckpoint(await checkpointFolder(join(FIX, "torch-extra")));
    expect(imp.family).toBe("torch");
    expect(imp.warnings).toEqual(["model.pt holds entries sae-edge does not read: input_scale"]);
    expect(imp.provenance.warnings).toEqual(imp.warnings);
  });

  it("dictionary_learning: an unknown dict_class is refused by name", async () => {
    const dir = copy(join(FIX, "upstream", "dictlearn", "topk"), (f) => f.set("config.json", new TextEncoder().encode(JSON.stringify({ trainer: { dict_class: "CrossCoder" } }))));
    await expect(importCheckpoint(await checkpointFolder(dir))).rejects.toMatchObject({ code: "CHECKPOINT_UNSUPPORTED", message: expect.stringContaining("dict_class CrossCoder") });
  });
});
