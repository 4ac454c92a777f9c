// Upstream as the oracle: each folder under test/fixtures/upstream/<project>/<case>/ was saved by
// the upstream project's own classes and save path, and holds the codes and reconstructions its
// own load path and encode/decode computed (make_upstream.py; commits in upstream.json). sae-edge
// must match them on the exact f32 path, run them in int8, print the warnings the case expects
// (and no others), or refuse the case with the code and message it names.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildModel, checkpointFolder, importCheckpoint, loadSae, serializeModel } from "../../src/adapters/node/index.js";

const ROOT = "test/fixtures/upstream";

interface Upstream {
  repository: string | null;
  commit: string | null;
  expect: { load?: boolean; warnings?: string[]; refuse?: string; message?: string };
}

// The test's own .npy reader (little-endian float32, C order), independent of src/format/npy.ts.
function npy(path: string): Float32Array {
  const b = new Uint8Array(readFileSync(path));
  const len = b[8] | (b[9] << 8);
  const header = new TextDecoder().decode(b.subarray(10, 10 + len));
  expect(header).toMatch(/'descr': '<f4', 'fortran_order': False/);
  return new Float32Array(b.slice(10 + len).buffer);
}

const cases = readdirSync(ROOT, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((p) => readdirSync(join(ROOT, p.name), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => `${p.name}/${d.name}`))
  .sort();

/** |got − want| ≤ 1e-5 of the reference's largest magnitude, element by element. */
function expectClose(got: ArrayLike<number>, want: Float32Array, what: string): void {
  expect(got.length, `${what} length`).toBe(want.length);
  const scale = Math.max(...Array.from(want, Math.abs));
  let worst = 0, at = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]);
    if (e > worst) [worst, at] = [e, i];
  }
  expect(worst, `${what}: worst error ${worst} at ${at} (got ${got[at]}, upstream ${want[at]}), scale ${scale}`).toBeLessThanOrEqual(1e-5 * scale);
}

it("every project has fixtures, each naming the upstream commit it was made with", () => {
  expect(new Set(cases.map((c) => c.split("/")[0]))).toEqual(new Set(["dictlearn", "openai", "saelens", "sparsify", "torch"]));
  for (const c of cases) {
    const u: Upstream = JSON.parse(readFileSync(join(ROOT, c, "upstream.json"), "utf8"));
    if (u.repository) expect(u.commit, c).toMatch(/^[0-9a-f]{40}$/);
  }
});

describe.each(cases)("%s", (name) => {
  const folder = join(ROOT, name);
  const u: Upstream = JSON.parse(readFileSync(join(folder, "upstream.json"), "utf8"));

  if (u.expect.refuse) {
    it(`is refused with ${u.expect.refuse}, saying why`, async () => {
      await expect(importCheckpoint(await checkpointFolder(folder))).rejects.toMatchObject({ code: u.expect.refuse, message: expect.stringContaining(u.expect.message!) });
    });
    return;
  }

  it("codes and reconstructions match upstream's own encode/decode (f32); int8 loads and runs", async () => {
    const imported = await importCheckpoint(await checkpointFolder(folder));
    const wanted = u.expect.warnings ?? [];
    expect(imported.warnings.length, `warnings: ${JSON.stringify(imported.warnings)}`).toBe(wanted.length ? imported.warnings.length : 0);
    for (const w of wanted) expect(imported.warnings.join("\n")).toContain(w);
    if (wanted.length) expect(imported.provenance.warnings).toEqual(imported.warnings);

    const x = npy(join(folder, "x.npy")), z = npy(join(folder, "z.npy")), xhat = npy(join(folder, "xhat.npy"));
    const exact = await loadSae(serializeModel(buildModel(imported.weights, "f32", imported.provenance)));
    expectClose(exact.encodeDense(x), z, "codes");
    expectClose(exact.forward(x).reconstruction, xhat, "reconstruction");

    const q = await loadSae(serializeModel(buildModel(imported.weights, "int8", imported.provenance)));
    const rec = q.forward(x).reconstruction;
    expect(rec.length).toBe(xhat.length);
    expect(rec.every(Number.isFinite)).toBe(true);
    // int8 stays close to upstream: reconstruction error well under the signal.
    let err = 0, sig = 0;
    for (let i = 0; i < xhat.length; i++) {
      err += (rec[i] - xhat[i]) ** 2;
      sig += xhat[i] ** 2;
    }
    expect(err / sig, "int8 relative reconstruction error").toBeLessThan(0.01);
  });
});
