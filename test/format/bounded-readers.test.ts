// Every reader bounds its time and memory by what it has read: decompression bombs, deep pickles
// and lying zip fields are refused fast with a typed error (issue 13, found by fuzzing).
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { bytesSource, checkpointFolder, importCheckpoint, openNpz, parseNpy, serializeNpy } from "../../src/adapters/node/index.js";
import { readTorchPt } from "../../src/format/torch-pickle.js";

const elapsed = async (run: () => Promise<unknown>) => {
  const t = performance.now();
  const result = await run().catch((e: unknown) => e);
  return { result, ms: performance.now() - t };
};

/** The byte offsets of each central directory entry of a zip. */
function directoryEntries(zip: Uint8Array): number[] {
  const dv = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const out: number[] = [];
  for (let p = 0; p + 4 <= zip.length; p++) if (dv.getUint32(p, true) === 0x02014b50) out.push(p);
  return out;
}

describe(".npz", () => {
  const zeros = (bytes: number) => serializeNpy(new Float32Array(bytes / 4), [bytes / 4]);

  it("refuses a member that inflates far beyond the archive's size before inflating it", async () => {
    const bomb = zipSync({ "W_enc.npy": zeros(48 << 20) }, { level: 9 });
    expect(bomb.length).toBeLessThan(200_000);
    const { result, ms } = await elapsed(() => openNpz(bytesSource(bomb), "bomb.npz"));
    expect(result).toMatchObject({ code: "CHECKPOINT_INVALID", message: expect.stringContaining("decompression bomb") });
    expect(ms).toBeLessThan(200);
  });

  it("inflates only a deflated member's header on open", async () => {
    const npz = zipSync({ "W_enc.npy": serializeNpy(new Float32Array(1 << 18).map((_, i) => Math.sin(i * 7.1)), [1 << 18]), "b.npy": zeros(8 << 20) }, { level: 9 });
    const source = bytesSource(npz);
    let read = 0;
    const members = await openNpz({ size: source.size, read: (at, into) => ((read += into.length), source.read(at, into)) }, "zeros.npz");
    expect(members.get("b")!.shape).toEqual([2 << 20]);
    expect(npz.length).toBeGreaterThan(900_000);
    expect(read - (22 + 0xffff)).toBeLessThan(8192); // the last 64 KiB (where the end record is), the directory and a piece of each member
  });

  it("refuses a zip64 extra field that runs past the directory entry", async () => {
    const zip = zipSync({ "a.npy": [zeros(64), { level: 0, extra: { 0x0001: new Uint8Array(8) } }] });
    const dv = new DataView(zip.buffer);
    const [entry] = directoryEntries(zip);
    dv.setUint32(entry + 24, 0xffffffff, true); // size: "see the zip64 field"
    const name = dv.getUint16(entry + 28, true);
    dv.setUint16(entry + 46 + name + 2, 60, true); // a zip64 field of 8 bytes that claims 60
    await expect(openNpz(bytesSource(zip), "z64.npz")).rejects.toMatchObject({ code: "CHECKPOINT_INVALID", message: expect.stringContaining("extra field") });
  });

  it("refuses a member whose deflate stream is corrupt as the archive's fault", async () => {
    const zip = zipSync({ "a.npy": zeros(4096) }, { level: 9 });
    const dv = new DataView(zip.buffer);
    const dataAt = 30 + dv.getUint16(26, true) + dv.getUint16(28, true);
    zip.fill(0xff, dataAt, dataAt + 8); // fflate throws its own (coded) errors for this
    await expect(openNpz(bytesSource(zip), "corrupt.npz")).rejects.toMatchObject({ code: "CHECKPOINT_INVALID", message: expect.stringContaining("does not inflate") });
  });

  it("refuses members that share their bytes", async () => {
    const zip = zipSync({ "a.npy": zeros(64), "b.npy": zeros(64) }, { level: 0 });
    const dv = new DataView(zip.buffer);
    const [first, second] = directoryEntries(zip);
    dv.setUint32(second + 42, dv.getUint32(first + 42, true), true);
    await expect(openNpz(bytesSource(zip), "overlap.npz")).rejects.toMatchObject({ code: "CHECKPOINT_INVALID", message: expect.stringContaining("overlap") });
  });
});

describe(".pt", () => {
  it("finds data.pkl before inflating any member", async () => {
    const zip = zipSync({ "archive/data/0": new Uint8Array(48 << 20), "archive/data.pkl": new Uint8Array([0x80, 2, 0xff]) }, { level: 9 });
    const { result, ms } = await elapsed(async () => readTorchPt(zip, "bomb.pt"));
    expect(result).toMatchObject({ code: "CHECKPOINT_INVALID", message: expect.stringContaining("opcode 0xff") });
    expect(ms).toBeLessThan(100);
  });

  const pickle = (...parts: (number[] | Uint8Array)[]) => new Uint8Array([0x80, 2, ...parts.flatMap((p) => [...p]), 0x2e]);
  const repeat = (op: number, n: number) => new Uint8Array(n).fill(op);

  it.each([
    ["lists appended into lists", pickle(repeat(0x5d, 1e6), repeat(0x61, 1e6 - 1))],
    ["tuples of tuples", pickle(repeat(0x28, 1e6), repeat(0x74, 1e6))],
    ["one-element tuples", pickle([0x4e], repeat(0x85, 1e6))],
    ["empty dicts", pickle(repeat(0x7d, 1e6))],
    ["memo entries", pickle([0x4e], repeat(0x94, 1e6))],
  ])("refuses a pickle of a million %s fast", async (_, bytes) => {
    const { result, ms } = await elapsed(async () => readTorchPt(bytes, "deep.pt"));
    expect(result).toMatchObject({ code: "CHECKPOINT_INVALID" });
    expect(ms).toBeLessThan(500);
  });

  it("appends a million items without a stack overflow", async () => {
    const bytes = pickle([0x5d, 0x28], repeat(0x4e, 1e6), [0x65]);
    // A list of a million Nones is a valid pickle, but not torch.save's magic number.
    await expect(async () => readTorchPt(bytes, "long.pt")).rejects.toMatchObject({ code: "CHECKPOINT_INVALID", message: expect.stringContaining("not torch.save's") });
  });
});

describe(".npy", () => {
  it("reads a Fortran-order array of a hundred thousand axes of 1 fast", () => {
    const file = serializeNpy(new Float32Array(64), [64, ...new Array<number>(100_000).fill(1)]);
    const fortran = file.slice();
    const at = Buffer.from(file).indexOf("'fortran_order': False");
    fortran.set(new TextEncoder().encode("'fortran_order': True "), at);
    const t = performance.now();
    expect(parseNpy(fortran).shape.length).toBe(100_001);
    expect(performance.now() - t).toBeLessThan(500);
  });
});

describe("checkpoint folders", () => {
  it.each([["sparsify", "cfg.json", "sae.safetensors"], ["dictionary_learning", "config.json", "ae.pt"]])("refuses a %s config that is JSON but not an object", async (_, config, weights) => {
    const dir = mkdtempSync(join(tmpdir(), "sae-edge-cfgnull-"));
    writeFileSync(join(dir, config), "null");
    writeFileSync(join(dir, weights), readFileSync(weights.endsWith(".pt") ? "test/fixtures/dictlearn-topk/ae.pt" : "models/mnist-topk-1024.safetensors"));
    await expect(importCheckpoint(await checkpointFolder(dir), weights.endsWith(".pt") ? "dictlearn" : "sparsify")).rejects.toMatchObject({ code: "CHECKPOINT_INVALID", message: `${config} is not a JSON object` });
  });

  it("names a cfg.json that is a folder as the checkpoint's fault", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sae-edge-cfgdir-"));
    mkdirSync(join(dir, "cfg.json"));
    writeFileSync(join(dir, "sae_weights.safetensors"), readFileSync("models/mnist-topk-1024.safetensors").subarray(0, 16));
    await expect(importCheckpoint(await checkpointFolder(dir))).rejects.toMatchObject({ code: "CHECKPOINT_INVALID", message: expect.stringContaining("is a folder") });
  });
});
