// Encodes x with a model under Node 22's relaxed build in a child process, once per relaxed dot
// loop (split, fused): one line each, "relaxed <dot> <rowOffsets>|<indices>|<values>[|<pre-activations of row 0>]",
// every array as base64 of its bytes, to compare with the parent's builds bit for bit.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DIST_NODE, NODE22 } from "./common.mjs";

export function node22Codes(model: Uint8Array, x: Float32Array, { preact = false } = {}): { status: number | null; stderr: string; lines: string[] } {
  const dir = mkdtempSync(join(tmpdir(), "sae-edge-node22-"));
  writeFileSync(join(dir, "m.safetensors"), model);
  writeFileSync(join(dir, "x.bin"), x);
  const script = `const { loadSae } = await import(${JSON.stringify(`file://${DIST_NODE}`)}); const fs = await import("node:fs");
    const b = fs.readFileSync(${JSON.stringify(join(dir, "x.bin"))}); const x = new Float32Array(b.buffer, b.byteOffset, b.length / 4);
    const e = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");
    for (const relaxedDot of ["split", "fused"]) {
      const s = await loadSae(${JSON.stringify(join(dir, "m.safetensors"))}, { relaxedDot }); const c = s.encode(x);
      const parts = [e(c.rowOffsets), e(c.indices), e(c.values)];
      if (${preact}) parts.push(e(s.preActivations(x.subarray(0, s.info.dIn), 1)));
      process.stdout.write(s.info.kernel + " " + s.info.relaxedDot + " " + parts.join("|") + "\\n");
    }`;
  const r = spawnSync(NODE22, ["--input-type=module", "-e", script], { encoding: "utf8", maxBuffer: 1 << 28 });
  return { status: r.status, stderr: r.stderr, lines: r.stdout.trim().split("\n") };
}
