// What the CPU offers that changes which peer wins: the int8 dot-product instructions (VNNI) that
// native onnxruntime uses and V8 15's relaxed dot lowers to. Linux only (/proc/cpuinfo), else null.
import { readFileSync } from "node:fs";

export function int8DotIsa() {
  let flags;
  try {
    flags = new Set((/^flags\s*:(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "").trim().split(/\s+/));
  } catch {
    return null;
  }
  if (flags.has("avx512_vnni")) return "AVX-512 VNNI";
  if (flags.has("avx_vnni")) return "AVX-VNNI";
  return flags.has("avx2") ? "AVX2, no VNNI" : "no AVX2";
}
