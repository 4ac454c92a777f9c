// SAELens checkpoints written byte by byte by our own writer (test/reference/
// saelens-writer.ts), imported through the library API, built as f32 models and
// compared with a float64 reference that computes what SAELens computes on the
// checkpoint as stored (normalization, decoder-norm rescaling and legacy scaling
// applied at run time, not folded).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildModel, checkpointFolder, importCheckpoint, loadSae, serializeModel, type Sae } from "../../src/adapters/node/index.js";
import {
  activateRow, baseSeed, caseSeed, checkSelection, csrRows, decodeRows, expectSameBits, expectWithin, makeRng, mismatch,
  preactF64, roundTo, selectionUnambiguous, writeSaeLensCheckpoint, type Arch, type Bounded, type Rng, type SparseRow,
  type StDtype, type StTensor,
} from "../reference/index.js";
import { expectCodeAsync } from "../helpers/expect-code.js";

let root: string;
let counter = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "sae-edge-saelens-"));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});
const freshDir = () => join(root, `ckpt-${counter++}`);

const D_IN = 24;
const D_SAE = 40;
const N = 16;

/** A checkpoint's tensors as float64 numbers (before any dtype rounding). */
interface RawSae {
  W_enc: Float64Array; // [d_in][d_sae]
  b_enc: Float64Array;
  W_dec: Float64Array; // [d_sae][d_in]
  b_dec: Float64Array;
  threshold?: Float64Array;
}

function randomSae(rng: Rng, arch: Arch, dIn = D_IN, dSae = D_SAE): RawSae {
  const g = (n: number, s: number) => Float64Array.from({ length: n }, () => rng.normal() * s);
  const W_dec = g(dSae * dIn, 1 / Math.sqrt(dIn));
  // Decoder rows of very different norms, so norm rescaling changes the selection.
  for (let j = 0; j < dSae; j++) {
    const f = 0.2 + 3 * rng.next();
    for (let i = 0; i < dIn; i++) W_dec[j * dIn + i] *= f;
  }
  return {
    W_enc: g(dIn * dSae, 1 / Math.sqrt(dIn)),
    b_enc: g(dSae, 0.2),
    W_dec,
    b_dec: g(dIn, 0.3),
    threshold: arch === "jumprelu" ? Float64Array.from({ length: dSae }, () => rng.uniform(-0.2, 0.6)) : undefined,
  };
}

function tensorsOf(raw: RawSae, dtype: StDtype, dIn = D_IN, dSae = D_SAE): StTensor[] {
  const t: StTensor[] = [
    { name: "W_enc", dtype, shape: [dIn, dSae], values: raw.W_enc },
    { name: "b_enc", dtype, shape: [dSae], values: raw.b_enc },
    { name: "W_dec", dtype, shape: [dSae, dIn], values: raw.W_dec },
    { name: "b_dec", dtype, shape: [dIn], values: raw.b_dec },
  ];
  if (raw.threshold) t.push({ name: "threshold", dtype, shape: [dSae], values: raw.threshold });
  return t;
}

/** The values a reader sees for each tensor after the dtype's rounding. */
function stored(raw: RawSae, dtype: StDtype): RawSae {
  const r = (v: Float64Array) => Float64Array.from(roundTo(dtype, v));
  return { W_enc: r(raw.W_enc), b_enc: r(raw.b_enc), W_dec: r(raw.W_dec), b_dec: r(raw.b_dec), threshold: raw.threshold && r(raw.threshold) };
}

function v6Cfg(arch: Arch, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architecture: arch,
    d_in: D_IN,
    d_sae: D_SAE,
    dtype: "float32",
    device: "cpu",
    apply_b_dec_to_input: false,
    normalize_activations: "none",
    reshape_activations: "none",
    metadata: {
      sae_lens_version: "6.5.0",
      sae_lens_training_version: "6.5.0",
      model_name: "gpt2",
      hook_name: "blocks.4.hook_resid_post",
      hook_head_index: null,
      prepend_bos: true,
      context_size: 128,
      dataset_path: "apollo-research/Skylion007-openwebtext-tokenizer-gpt2",
    },
    ...(arch === "topk" ? { k: 5, rescale_acts_by_decoder_norm: false } : {}),
    ...extra,
  };
}

function preV6Cfg(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architecture: "standard",
    d_in: D_IN,
    d_sae: D_SAE,
    activation_fn_str: "topk",
    activation_fn_kwargs: { k: 4 },
    apply_b_dec_to_input: true,
    finetuning_scaling_factor: false,
    context_size: 128,
    model_name: "gpt2-small",
    hook_point: "blocks.8.hook_resid_pre",
    hook_point_layer: 8,
    hook_point_head_index: null,
    prepend_bos: true,
    dataset_path: "Skylion007/openwebtext",
    dataset_trust_remote_code: true,
    normalize_activations: "none",
    dtype: "torch.float32",
    device: "cpu",
    sae_lens_training_version: null,
    ...extra,
  };
}

/** What SAELens computes for a checkpoint, in float64. */
interface LensSpec {
  arch: Arch;
  k: number;
  applyB: boolean;
  w: RawSae;
  /** normalize_activations expected_average_only_in: encode(x * s), decoded output / s. */
  scale?: number;
  /** TopK rescale_acts_by_decoder_norm. */
  rescale?: boolean;
  /** Legacy finetuning scaling factor per latent (features times it before decoding). */
  scalingFactor?: Float64Array;
}

interface LensRef {
  preact(x: Float32Array, n: number): Bounded;
  decode(rows: readonly SparseRow[]): Bounded;
  theta?: Float64Array;
}

function lensReference(s: LensSpec, dIn = D_IN, dSae = D_SAE): LensRef {
  const { w } = s;
  const scale = s.scale ?? 1;
  const norms = new Float64Array(dSae).fill(1);
  if (s.rescale) {
    for (let j = 0; j < dSae; j++) {
      let q = 0;
      for (let i = 0; i < dIn; i++) q += w.W_dec[j * dIn + i] ** 2;
      norms[j] = Math.sqrt(q);
    }
  }
  return {
    theta: w.threshold,
    preact(x, n) {
      const xp = new Float64Array(n * dIn);
      for (let r = 0; r < n; r++) for (let i = 0; i < dIn; i++) xp[r * dIn + i] = x[r * dIn + i] * scale - (s.applyB ? w.b_dec[i] : 0);
      const h = preactF64(w.W_enc, w.b_enc, dIn, dSae, xp, n);
      for (let r = 0; r < n; r++) {
        for (let j = 0; j < dSae; j++) {
          h.v[r * dSae + j] *= norms[j];
          h.tol[r * dSae + j] *= norms[j];
        }
      }
      return h;
    },
    decode(rows) {
      // A zero decoder row contributes nothing (and SAELens' 0 * (1/0) is not a number we can compare with).
      const coef = (j: number) => (norms[j] === 0 ? 0 : (s.scalingFactor ? s.scalingFactor[j] : 1) / norms[j]);
      const out = decodeRows((j, i) => coef(j) * w.W_dec[j * dIn + i], w.b_dec, dIn, rows);
      for (let i = 0; i < out.v.length; i++) {
        out.v[i] /= scale;
        out.tol[i] = out.tol[i] / scale + 1e-30;
      }
      return out;
    },
  };
}

async function importDir(dir: string) {
  return importCheckpoint(await checkpointFolder(dir));
}

async function modelFrom(dir: string): Promise<{ sae: Sae; imp: Awaited<ReturnType<typeof importDir>> }> {
  const imp = await importDir(dir);
  const sae = await loadSae(serializeModel(buildModel(imp.weights, "f32")));
  return { sae, imp };
}

/** The model must behave as SAELens does on the stored checkpoint. */
function expectLensBehaviour(sae: Sae, ref: LensRef, spec: { arch: Arch; k: number }, x: Float32Array, ctx: string): { pre: Float32Array; rows: SparseRow[]; rec: Float32Array } {
  const fullCtx = `${ctx} kernel=${sae.info.kernel}`;
  expect(sae.info.dIn).toBe(D_IN);
  expect(sae.info.dSae).toBe(D_SAE);
  const refPre = ref.preact(x, N);
  const pre = sae.preActivations(x, N);
  expectWithin(pre, refPre, fullCtx, "preActivations vs SAELens reference", D_SAE);
  const fwd = sae.forward(x, N);
  const rows = csrRows(fwd.codes);
  let exact = 0;
  for (let r = 0; r < N; r++) {
    const h = refPre.v.subarray(r * D_SAE, (r + 1) * D_SAE), tol = refPre.tol.subarray(r * D_SAE, (r + 1) * D_SAE);
    const problems = checkSelection(h, tol, spec.arch, spec.k, ref.theta, rows[r].indices);
    if (problems.length) mismatch(`${fullCtx} row=${r}`, "codes vs SAELens reference", problems);
    if (selectionUnambiguous(h, tol, spec.arch, spec.k, ref.theta)) {
      const want = activateRow(h, spec.arch, spec.k, ref.theta).indices.sort((a, b) => a - b);
      const got = rows[r].indices.slice().sort((a, b) => a - b);
      if (JSON.stringify(want) !== JSON.stringify(got)) mismatch(`${fullCtx} row=${r}`, "active set vs SAELens reference", [`got ${got}`, `want ${want}`]);
      exact++;
    }
    rows[r].indices.forEach((j, e) => {
      if (!(Math.abs(rows[r].values[e] - h[j]) <= tol[j])) mismatch(`${fullCtx} row=${r}`, "code value vs SAELens reference", [`latent ${j}: ${rows[r].values[e]} vs ${h[j]} ± ${tol[j]}`]);
    });
  }
  expect(exact, `${fullCtx}: rows with an unambiguous selection`).toBeGreaterThan(N / 2);
  expectWithin(fwd.reconstruction, ref.decode(rows), fullCtx, "reconstruction vs SAELens reference", D_IN);
  return { pre, rows, rec: fwd.reconstruction };
}

function inputs(rng: Rng): Float32Array {
  return rng.normals(N * D_IN);
}

function ctxOf(name: string, seed: number): string {
  return `${name} seed=${seed} (SAE_TEST_SEED=${baseSeed()}) d_in=${D_IN} d_sae=${D_SAE}`;
}

describe("SAELens v6 checkpoints", () => {
  for (const arch of ["standard", "topk", "jumprelu"] as const) {
    it(`${arch}, F32, apply_b_dec_to_input false`, async () => {
      const seed = caseSeed(`v6 ${arch}`);
      const ctx = ctxOf(`v6 ${arch}`, seed);
      const rng = makeRng(seed);
      const raw = randomSae(rng, arch);
      const dir = freshDir();
      await writeSaeLensCheckpoint(dir, { cfg: v6Cfg(arch), tensors: tensorsOf(raw, "F32") });
      const { sae, imp } = await modelFrom(dir);
      expect(imp.family).toBe("saelens");
      const w = imp.weights;
      expect([w.architecture, w.dIn, w.dSae, w.k, w.applyBDecToInput], ctx).toEqual([arch, D_IN, D_SAE, arch === "topk" ? 5 : 0, false]);
      // F32 tensors come through unchanged, in SAELens orientation.
      const f = stored(raw, "F32");
      expectSameBits(w.W_enc, Float32Array.from(f.W_enc), ctx, "imported W_enc");
      expectSameBits(w.W_dec, Float32Array.from(f.W_dec), ctx, "imported W_dec");
      expectSameBits(w.b_enc, Float32Array.from(f.b_enc), ctx, "imported b_enc");
      expectSameBits(w.b_dec, Float32Array.from(f.b_dec), ctx, "imported b_dec");
      if (arch === "jumprelu") expectSameBits(w.threshold!, Float32Array.from(f.threshold!), ctx, "imported threshold");
      expect(imp.provenance, ctx).toMatchObject({ saelens_config: "v6", hook_name: "blocks.4.hook_resid_post", model_name: "gpt2" });
      const k = arch === "topk" ? 5 : 0;
      expectLensBehaviour(sae, lensReference({ arch, k, applyB: false, w: f }), { arch, k }, inputs(rng), ctx);
    });
  }

  it("apply_b_dec_to_input true (jumprelu)", async () => {
    const seed = caseSeed("v6 apply_b_dec");
    const ctx = ctxOf("v6 jumprelu apply_b_dec_to_input=true", seed);
    const rng = makeRng(seed);
    const raw = randomSae(rng, "jumprelu");
    const dir = freshDir();
    await writeSaeLensCheckpoint(dir, { cfg: v6Cfg("jumprelu", { apply_b_dec_to_input: true }), tensors: tensorsOf(raw, "F32") });
    const { sae, imp } = await modelFrom(dir);
    expect(imp.weights.applyBDecToInput).toBe(true);
    expectLensBehaviour(sae, lensReference({ arch: "jumprelu", k: 0, applyB: true, w: stored(raw, "F32") }), { arch: "jumprelu", k: 0 }, inputs(rng), ctx);
  });

  it("unknown extra keys in cfg.json change nothing and are reported; SAELens training keys are not", async () => {
    const seed = caseSeed("v6 extra keys");
    const ctx = ctxOf("v6 topk extra keys", seed);
    const rng = makeRng(seed);
    const raw = randomSae(rng, "topk");
    const plain = freshDir(), noisy = freshDir();
    await writeSaeLensCheckpoint(plain, { cfg: v6Cfg("topk"), tensors: tensorsOf(raw, "F32") });
    const cfg = v6Cfg("topk", {
      some_future_option: { nested: [1, 2, 3], flag: true },
      lr_warm_up_steps: 0,
      decoder_init_norm: null,
      "weird key with spaces": "x",
    });
    (cfg.metadata as Record<string, unknown>).unheard_of = { a: 1 };
    await writeSaeLensCheckpoint(noisy, { cfg, tensors: tensorsOf(raw, "F32") });
    const a = await modelFrom(plain), b = await modelFrom(noisy);
    expect(b.imp.weights.architecture).toBe("topk");
    expect(b.imp.weights.k).toBe(5);
    const x = inputs(rng);
    const ra = expectLensBehaviour(a.sae, lensReference({ arch: "topk", k: 5, applyB: false, w: stored(raw, "F32") }), { arch: "topk", k: 5 }, x, ctx);
    const rb = expectLensBehaviour(b.sae, lensReference({ arch: "topk", k: 5, applyB: false, w: stored(raw, "F32") }), { arch: "topk", k: 5 }, x, ctx);
    expectSameBits(rb.pre, ra.pre, ctx, "preActivations with vs without extra keys");
    expectSameBits(rb.rec, ra.rec, ctx, "reconstruction with vs without extra keys");
    expect(a.imp.warnings, ctx).toEqual([]);
    expect(b.imp.warnings, ctx).toEqual(["cfg.json keys sae-edge does not read (no such SAELens option up to 6.18): some_future_option, weird key with spaces"]);
    expect(b.imp.provenance, ctx).toMatchObject({ unknown_config_keys: ["some_future_option", "weird key with spaces"], warnings: b.imp.warnings });
  });

  it("reshape_activations hook_z is kept (rows are [n_heads, d_head] flattened); other values and a non-z hook are refused", async () => {
    const raw = randomSae(makeRng(caseSeed("hook_z")), "standard");
    const ok = freshDir();
    const cfg = v6Cfg("standard", { reshape_activations: "hook_z" });
    (cfg.metadata as Record<string, unknown>).hook_name = "blocks.1.attn.hook_z";
    await writeSaeLensCheckpoint(ok, { cfg, tensors: tensorsOf(raw, "F32") });
    expect((await importDir(ok)).provenance).toMatchObject({ reshape_activations: "hook_z" });
    const odd = freshDir();
    await writeSaeLensCheckpoint(odd, { cfg: v6Cfg("standard", { reshape_activations: "hook_q" }), tensors: tensorsOf(raw, "F32") });
    await expect(importDir(odd)).rejects.toMatchObject({ code: "CHECKPOINT_UNSUPPORTED", message: expect.stringContaining('reshape_activations "hook_q"') });
    const notZ = freshDir();
    const cfg2 = v6Cfg("standard", { reshape_activations: "hook_z" });
    (cfg2.metadata as Record<string, unknown>).hook_name = "blocks.1.hook_resid_pre";
    await writeSaeLensCheckpoint(notZ, { cfg: cfg2, tensors: tensorsOf(raw, "F32") });
    await expect(importDir(notZ)).rejects.toMatchObject({ code: "CHECKPOINT_INVALID" });
  });
});

describe("SAELens checkpoint folders", () => {
  it("a file path inside the folder stands for the folder", async () => {
    const seed = caseSeed("file path");
    const ctx = ctxOf("v6 standard via cfg.json path", seed);
    const rng = makeRng(seed);
    const raw = randomSae(rng, "standard");
    const dir = freshDir();
    await writeSaeLensCheckpoint(dir, { cfg: v6Cfg("standard"), tensors: tensorsOf(raw, "F32") });
    for (const name of ["cfg.json", "sae_weights.safetensors"]) {
      const imp = await importCheckpoint(await checkpointFolder(join(dir, name)));
      expectSameBits(imp.weights.W_enc, Float32Array.from(stored(raw, "F32").W_enc), `${ctx} path=${name}`, "W_enc via a file path");
    }
  });
});

describe("SAELens pre-6.0 checkpoints", () => {
  it("activation_fn_str topk with activation_fn_kwargs {k}, torch.float32, hook_point", async () => {
    const seed = caseSeed("pre6 topk");
    const ctx = ctxOf("pre-6.0 topk", seed);
    const rng = makeRng(seed);
    const raw = randomSae(rng, "topk");
    const dir = freshDir();
    await writeSaeLensCheckpoint(dir, { cfg: preV6Cfg(), tensors: tensorsOf(raw, "F32") });
    const { sae, imp } = await modelFrom(dir);
    const w = imp.weights;
    expect([w.architecture, w.k, w.applyBDecToInput], ctx).toEqual(["topk", 4, true]);
    expect(imp.provenance, ctx).toMatchObject({ saelens_config: "pre-6.0", hook_name: "blocks.8.hook_resid_pre", model_name: "gpt2-small" });
    expectLensBehaviour(sae, lensReference({ arch: "topk", k: 4, applyB: true, w: stored(raw, "F32") }), { arch: "topk", k: 4 }, inputs(rng), ctx);
  });

  it("activation_fn_str tanh-relu is refused (SAELens 6 would drop it and run ReLU); a hook_z hook_point defaults reshape_activations", async () => {
    const raw = randomSae(makeRng(caseSeed("pre6 tanh")), "standard");
    const dir = freshDir();
    await writeSaeLensCheckpoint(dir, { cfg: preV6Cfg({ activation_fn_str: "tanh-relu", activation_fn_kwargs: {} }), tensors: tensorsOf(raw, "F32") });
    await expect(importDir(dir)).rejects.toMatchObject({ code: "CHECKPOINT_UNSUPPORTED", message: expect.stringContaining('activation_fn "tanh-relu"') });
    const z = freshDir();
    await writeSaeLensCheckpoint(z, { cfg: preV6Cfg({ activation_fn_str: "relu", activation_fn_kwargs: {}, hook_point: "blocks.4.attn.hook_z" }), tensors: tensorsOf(raw, "F32") });
    const imp = await importDir(z);
    expect(imp.provenance).toMatchObject({ reshape_activations: "hook_z", hook_name: "blocks.4.attn.hook_z" });
    expect(imp.warnings).toEqual([]);
  });

  it("activation_fn_str relu is the standard architecture", async () => {
    const seed = caseSeed("pre6 relu");
    const ctx = ctxOf("pre-6.0 relu", seed);
    const rng = makeRng(seed);
    const raw = randomSae(rng, "standard");
    const dir = freshDir();
    await writeSaeLensCheckpoint(dir, { cfg: preV6Cfg({ activation_fn_str: "relu", activation_fn_kwargs: {} }), tensors: tensorsOf(raw, "F32") });
    const { sae, imp } = await modelFrom(dir);
    expect([imp.weights.architecture, imp.weights.k, imp.weights.applyBDecToInput], ctx).toEqual(["standard", 0, true]);
    expectLensBehaviour(sae, lensReference({ arch: "standard", k: 0, applyB: true, w: stored(raw, "F32") }), { arch: "standard", k: 0 }, inputs(rng), ctx);
  });

  for (const [label, factor] of [["non-trivial", "random"], ["all ones", "ones"]] as const) {
    it(`legacy scaling_factor tensor (${label}) scales features before decoding`, async () => {
      const seed = caseSeed(`pre6 scaling_factor ${label}`);
      const ctx = ctxOf(`pre-6.0 scaling_factor ${label}`, seed);
      const rng = makeRng(seed);
      const raw = randomSae(rng, "standard");
      const sf = Float64Array.from({ length: D_SAE }, () => (factor === "ones" ? 1 : Math.fround(rng.uniform(0.25, 2.5))));
      const dir = freshDir();
      const tensors = tensorsOf(raw, "F32");
      tensors.push({ name: "scaling_factor", dtype: "F32", shape: [D_SAE], values: sf });
      await writeSaeLensCheckpoint(dir, {
        cfg: preV6Cfg({ activation_fn_str: "relu", activation_fn_kwargs: {}, finetuning_scaling_factor: factor !== "ones" }),
        tensors,
      });
      const { sae } = await modelFrom(dir);
      const x = inputs(rng);
      const ref = lensReference({ arch: "standard", k: 0, applyB: true, w: stored(raw, "F32"), scalingFactor: sf });
      const { rows, rec } = expectLensBehaviour(sae, ref, { arch: "standard", k: 0 }, x, ctx);
      if (factor !== "ones") {
        // Sanity: ignoring the factor would be detected.
        const without = lensReference({ arch: "standard", k: 0, applyB: true, w: stored(raw, "F32") });
        expect(() => expectWithin(rec, without.decode(rows), ctx, "reconstruction without scaling_factor", D_IN)).toThrow();
      }
    });
  }
});

describe("SAELens tensor dtypes", () => {
  for (const dtype of ["F16", "BF16"] as const) {
    it(`${dtype} tensors are read exactly (reference on the rounded weights)`, async () => {
      const seed = caseSeed(`dtype ${dtype}`);
      const ctx = ctxOf(`v6 jumprelu ${dtype}`, seed);
      const rng = makeRng(seed);
      const raw = randomSae(rng, "jumprelu");
      // Awkward values: f16 subnormals, negative zero, a value that only just fits, round-to-even ties.
      const special = [3e-6, -5.96e-8, -0, 6.1e-5, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 1 + 2 ** -8, -(1 + 3 * 2 ** -8), 0.33325, 2 ** -20];
      special.forEach((v, i) => (raw.W_enc[i * 7] = v));
      raw.b_dec[0] = -0;
      const dir = freshDir();
      await writeSaeLensCheckpoint(dir, {
        cfg: v6Cfg("jumprelu", { dtype: dtype === "F16" ? "float16" : "bfloat16", apply_b_dec_to_input: true }),
        tensors: tensorsOf(raw, dtype),
      });
      const { sae, imp } = await modelFrom(dir);
      const f = stored(raw, dtype);
      const w = imp.weights;
      expectSameBits(w.W_enc, Float32Array.from(f.W_enc), ctx, `imported ${dtype} W_enc`);
      expectSameBits(w.b_enc, Float32Array.from(f.b_enc), ctx, `imported ${dtype} b_enc`);
      expectSameBits(w.W_dec, Float32Array.from(f.W_dec), ctx, `imported ${dtype} W_dec`);
      expectSameBits(w.b_dec, Float32Array.from(f.b_dec), ctx, `imported ${dtype} b_dec`);
      expectSameBits(w.threshold!, Float32Array.from(f.threshold!), ctx, `imported ${dtype} threshold`);
      const x = inputs(rng);
      const { pre } = expectLensBehaviour(sae, lensReference({ arch: "jumprelu", k: 0, applyB: true, w: f }), { arch: "jumprelu", k: 0 }, x, ctx);
      // Sanity: the rounding is large enough that the unrounded weights would not match.
      const unrounded = lensReference({ arch: "jumprelu", k: 0, applyB: true, w: raw });
      expect(() => expectWithin(pre, unrounded.preact(x, N), ctx, "vs unrounded weights", D_SAE)).toThrow();
    });
  }
});

describe("SAELens normalizations folded into the weights", () => {
  for (const arch of ["standard", "topk", "jumprelu"] as const) {
    it(`normalize_activations expected_average_only_in with activation_scaler.json (${arch})`, async () => {
      const seed = caseSeed(`scaler ${arch}`);
      const ctx = ctxOf(`v6 ${arch} expected_average_only_in`, seed);
      const rng = makeRng(seed);
      const raw = randomSae(rng, arch);
      const s = 3.7;
      const dir = freshDir();
      await writeSaeLensCheckpoint(dir, {
        cfg: v6Cfg(arch, { normalize_activations: "expected_average_only_in", apply_b_dec_to_input: true }),
        tensors: tensorsOf(raw, "F32"),
        scaler: s,
      });
      const { sae } = await modelFrom(dir);
      const k = arch === "topk" ? 5 : 0;
      // Raw inputs in; SAELens encodes x * s and divides its decoder output by s.
      const x = inputs(rng);
      const { pre } = expectLensBehaviour(sae, lensReference({ arch, k, applyB: true, w: stored(raw, "F32"), scale: s }), { arch, k }, x, ctx);
      const unscaled = lensReference({ arch, k, applyB: true, w: stored(raw, "F32") });
      expect(() => expectWithin(pre, unscaled.preact(x, N), ctx, "vs no scaling", D_SAE)).toThrow();
    });
  }

  it("expected_average_only_in without activation_scaler.json is refused", async () => {
    const dir = freshDir();
    const raw = randomSae(makeRng(1), "standard");
    await writeSaeLensCheckpoint(dir, { cfg: v6Cfg("standard", { normalize_activations: "expected_average_only_in" }), tensors: tensorsOf(raw, "F32") });
    await expectCodeAsync(importDir(dir), "CHECKPOINT_UNSUPPORTED", "no activation_scaler.json");
  });

  for (const applyB of [false, true]) {
    it(`topk rescale_acts_by_decoder_norm true (apply_b_dec_to_input ${applyB})`, async () => {
      const seed = caseSeed(`rescale ${applyB}`);
      const ctx = ctxOf(`v6 topk rescale_acts_by_decoder_norm apply_b_dec=${applyB}`, seed);
      const rng = makeRng(seed);
      const raw = randomSae(rng, "topk");
      const dir = freshDir();
      await writeSaeLensCheckpoint(dir, { cfg: v6Cfg("topk", { rescale_acts_by_decoder_norm: true, apply_b_dec_to_input: applyB }), tensors: tensorsOf(raw, "F32") });
      const { sae } = await modelFrom(dir);
      const x = inputs(rng);
      const ref = lensReference({ arch: "topk", k: 5, applyB, w: stored(raw, "F32"), rescale: true });
      const { rows } = expectLensBehaviour(sae, ref, { arch: "topk", k: 5 }, x, ctx);
      // Sanity: the rescaling changes which latents win on this data.
      const plain = lensReference({ arch: "topk", k: 5, applyB, w: stored(raw, "F32") }).preact(x, N);
      let differs = 0;
      for (let r = 0; r < N; r++) {
        const want = activateRow(plain.v.subarray(r * D_SAE, (r + 1) * D_SAE), "topk", 5).indices.sort((a, b) => a - b);
        if (JSON.stringify(want) !== JSON.stringify(rows[r].indices.slice().sort((a, b) => a - b))) differs++;
      }
      expect(differs, ctx).toBeGreaterThan(0);
    });
  }
});

describe("SAELens decoder-norm rescaling edge case", () => {
  it("topk rescale_acts_by_decoder_norm with all-zero decoder rows: h * ||W_dec[j]|| = 0, so those latents never fire", async () => {
    // SAELens TopKSAE.encode multiplies the pre-activation by W_dec.norm(dim=-1), which is 0 for a
    // dead latent whose decoder row is all zero: it can never be among the positive top-k.
    // (SAELens' own fold_W_dec_norm clamps the norm to 1e-8, with the same effect.)
    const seed = caseSeed("rescale zero rows");
    const ctx = ctxOf("v6 topk rescale_acts_by_decoder_norm, zero decoder rows 3, 17, 30", seed);
    const rng = makeRng(seed);
    const raw = randomSae(rng, "topk");
    for (const j of [3, 17, 30]) {
      raw.W_dec.fill(0, j * D_IN, (j + 1) * D_IN);
      for (let i = 0; i < D_IN; i++) raw.W_enc[i * D_SAE + j] *= 4; // large pre-activations
      raw.b_enc[j] = 2;
    }
    const dir = freshDir();
    await writeSaeLensCheckpoint(dir, { cfg: v6Cfg("topk", { rescale_acts_by_decoder_norm: true }), tensors: tensorsOf(raw, "F32") });
    const { sae } = await modelFrom(dir);
    const x = inputs(rng);
    const codes = csrRows(sae.encode(x, N));
    const fired = codes.flatMap((c, r) => c.indices.filter((j) => j === 3 || j === 17 || j === 30).map((j) => `row ${r}: latent ${j} = ${c.values[c.indices.indexOf(j)]}`));
    expect(fired, `${ctx}: zero-decoder latents in the codes`).toEqual([]);
    expectLensBehaviour(sae, lensReference({ arch: "topk", k: 5, applyB: false, w: stored(raw, "F32"), rescale: true }), { arch: "topk", k: 5 }, x, ctx);
  });
});

describe("SAELens checkpoint errors", () => {
  it("missing cfg.json -> CHECKPOINT_INVALID", async () => {
    const dir = freshDir();
    await writeSaeLensCheckpoint(dir, { tensors: tensorsOf(randomSae(makeRng(2), "standard"), "F32") });
    await expectCodeAsync(importDir(dir), "CHECKPOINT_INVALID", "no cfg.json (auto-detected)");
    await expectCodeAsync((async () => importCheckpoint(await checkpointFolder(dir), "saelens"))(), "CHECKPOINT_INVALID", "no cfg.json (--from saelens)");
  });

  it("tensor shapes that disagree with cfg.json -> CHECKPOINT_INVALID", async () => {
    const raw = randomSae(makeRng(3), "standard");
    // W_enc stored with one input dimension too many.
    const wide = randomSae(makeRng(3), "standard", D_IN + 1, D_SAE);
    const cases: [string, StTensor[]][] = [
      ["W_enc [d_in+1, d_sae]", [{ name: "W_enc", dtype: "F32", shape: [D_IN + 1, D_SAE], values: wide.W_enc }, ...tensorsOf(raw, "F32").slice(1)]],
      ["W_enc transposed", [{ name: "W_enc", dtype: "F32", shape: [D_SAE, D_IN], values: raw.W_enc }, ...tensorsOf(raw, "F32").slice(1)]],
      ["b_dec [d_in - 1]", [...tensorsOf(raw, "F32").slice(0, 3), { name: "b_dec", dtype: "F32", shape: [D_IN - 1], values: raw.b_dec.slice(1) }]],
    ];
    for (const [label, tensors] of cases) {
      const dir = freshDir();
      await writeSaeLensCheckpoint(dir, { cfg: v6Cfg("standard"), tensors });
      await expectCodeAsync(importDir(dir), "CHECKPOINT_INVALID", label);
    }
    // d_sae in cfg.json disagreeing with correct tensors.
    const dir = freshDir();
    await writeSaeLensCheckpoint(dir, { cfg: v6Cfg("standard", { d_sae: D_SAE + 4 }), tensors: tensorsOf(raw, "F32") });
    await expectCodeAsync(importDir(dir), "CHECKPOINT_INVALID", "cfg d_sae + 4");
  });

  it('architecture "temporal" -> CHECKPOINT_UNSUPPORTED', async () => {
    const raw = randomSae(makeRng(4), "standard");
    const tensors = tensorsOf(raw, "F32");
    tensors.push({ name: "b_gate", dtype: "F32", shape: [D_SAE], values: raw.b_enc });
    tensors.push({ name: "r_mag", dtype: "F32", shape: [D_SAE], values: raw.b_enc });
    tensors.push({ name: "b_mag", dtype: "F32", shape: [D_SAE], values: raw.b_enc });
    const dir = freshDir();
    await writeSaeLensCheckpoint(dir, { cfg: v6Cfg("temporal" as Arch), tensors });
    await expectCodeAsync(importDir(dir), "CHECKPOINT_UNSUPPORTED", "temporal");
  });

  it("cfg.json that is not JSON -> CHECKPOINT_INVALID", async () => {
    const raw = randomSae(makeRng(5), "standard");
    for (const text of ['{"d_in": 24, "d_sae": 40,', "{d_in: 24}", "", "\u0000\u0001"]) {
      const dir = freshDir();
      await writeSaeLensCheckpoint(dir, { cfg: text, tensors: tensorsOf(raw, "F32") });
      await expectCodeAsync(importDir(dir), "CHECKPOINT_INVALID", `cfg.json = ${JSON.stringify(text)}`);
    }
  });
});
