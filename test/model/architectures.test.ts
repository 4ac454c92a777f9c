// The architecture registry: the built-ins, duplicate refusal, and an architecture defined
// outside the library (here, in this test) that runs end to end with no library file touched.
import { describe, expect, it } from "vitest";
import { architecture, ARCHITECTURES, registerArchitecture, type ArchitectureDef } from "../../src/model/architectures/index.js";
import { buildModel, expectedTensors, loadSae, serializeModel, type SaeWeights } from "../../src/adapters/node/index.js";
import { expectCode } from "../helpers/expect-code.js";
import { makeRng } from "../reference/rng.js";
import { preactF64, shiftInput } from "../reference/sae.js";

describe("architecture registry", () => {
  it("ships standard, topk, jumprelu, gated and groupmax, each with its tensors in the model file", () => {
    expect([...ARCHITECTURES]).toEqual(["standard", "topk", "jumprelu", "gated", "groupmax"]);
    for (const name of ARCHITECTURES) {
      const def = architecture(name);
      const spec = { architecture: name, dIn: 8, dSae: 8, dOut: 8, k: def.k ? 2 : 0, applyBDecToInput: false, normalization: "none", quantization: "f32", provenance: {} } as const;
      const names = Object.keys(expectedTensors(spec));
      for (const t of def.latentTensors) expect(names, name).toContain(t);
    }
  });

  it("refuses a second architecture of the same name", () => {
    expectCode(() => registerArchitecture({ ...architecture("topk") }), "INVALID_ARGUMENT");
  });

  it("runs an architecture registered from outside the library: one that reuses the JumpReLU kernel activation", async () => {
    // Defined here, not in src/: what adding an architecture that reuses a kernel activation takes.
    const def: ArchitectureDef = {
      name: "test_jumprelu_copy",
      activation: "jumprelu",
      latentTensors: ["b_enc", "threshold"],
      slots: { bias: "b_enc", threshold: "threshold" },
    };
    registerArchitecture(def);
    const rng = makeRng(7);
    const dIn = 24, dSae = 40, n = 5;
    const fill = (len: number, s = 1) => Float32Array.from({ length: len }, () => rng.normal() * s);
    const w = {
      architecture: def.name, dIn, dSae, k: 0, applyBDecToInput: true,
      W_enc: fill(dIn * dSae, 0.3), b_enc: fill(dSae, 0.1), W_dec: fill(dSae * dIn, 0.3), b_dec: fill(dIn, 0.1),
      threshold: Float32Array.from({ length: dSae }, () => Math.abs(rng.normal()) * 0.5),
    } as unknown as SaeWeights;
    const bytes = serializeModel(buildModel(w, "f32"));
    const sae = await loadSae(bytes);
    const x = fill(n * dIn);
    const z = sae.encodeDense(x);
    const h = preactF64(w.W_enc, w.b_enc, dIn, dSae, shiftInput(x, n, dIn, w.b_dec), n);
    let active = 0;
    for (let e = 0; e < n * dSae; e++) {
      const j = e % dSae, bar = Math.max(w.threshold![j]!, 0);
      if (Math.abs(h.v[e]! - bar) <= h.tol[e]!) continue; // too close to call in float32
      if (h.v[e]! > bar) {
        active++;
        expect(Math.abs(z[e]! - h.v[e]!)).toBeLessThanOrEqual(h.tol[e]!);
      } else {
        expect(z[e]).toBe(0);
      }
    }
    expect(active).toBeGreaterThan(10);
    sae.dispose();
  });
});
