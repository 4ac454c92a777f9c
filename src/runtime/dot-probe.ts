// Which inner loop the relaxed build should run: the fused i32x4.relaxed_dot_i8x16_i7x16_add_s is
// one instruction where the engine lowers it to a dot-product instruction (x86 AVX-VNNI vpdpbusd,
// ARM sdot) and five where it emulates it (x86 without VNNI, or V8 before it knew AVX-VNNI:
// pmaddubsw + pmaddwd + a rebuilt constant), where the split i16 dot + extadd takes three. Both
// give the exact sums for the kernel's operands (the i7 side in [1, 127]), so the choice changes
// speed only. XNNPACK and MLAS tell the lowerings apart the same way: on inputs with the top bit
// set the emulation saturates (pmaddubsw) and the instructions do not.
//
// The probe module, p(a, b, c) = lane 0 of the fused dot of splat(a) · splat(b) + splat(c):
//   (module (func (export "p") (param i32 i32 i32) (result i32)
//     (i32x4.extract_lane 0 (i32x4.relaxed_dot_i8x16_i7x16_add_s
//       (i8x16.splat (local.get 0)) (i8x16.splat (local.get 1)) (i32x4.splat (local.get 2))))))
const PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, // magic, version
  1, 8, 1, 0x60, 3, 0x7f, 0x7f, 0x7f, 1, 0x7f, // type: (i32 i32 i32) -> i32
  3, 2, 1, 0, // one function
  7, 5, 1, 1, 112, 0, 0, // export "p"
  10, 22, 1, 20, 0, // code: one body, no locals
  0x20, 0, 0xfd, 0x0f, 0x20, 1, 0xfd, 0x0f, 0x20, 2, 0xfd, 0x11, // splats
  0xfd, 0x93, 0x02, 0xfd, 0x1b, 0x00, 0x0b, // relaxed dot-add, extract_lane 0, end
]);

/** The relaxed build's inner loop: "fused" (one dot instruction) or "split" (i16 dot + extadd). */
export type RelaxedDot = "fused" | "split";
/** Every RelaxedDot, for validating a forced choice. */
export const RELAXED_DOTS: readonly RelaxedDot[] = ["fused", "split"];

let probed: RelaxedDot | undefined;

/**
 * "fused" when this engine computes the relaxed dot-add like a single dot-product instruction:
 * -128 · 0xFF four times plus 7 is -130553 read as vpdpbusd does (the i7 side unsigned) and 519
 * as sdot does (signed); the emulation saturates to -65536 + 7. Anything else (no relaxed SIMD,
 * or an engine that gets the op wrong) keeps the split loop.
 */
export function probeRelaxedDot(): RelaxedDot {
  if (probed) return probed;
  probed = "split";
  try {
    if (WebAssembly.validate(PROBE)) {
      const p = (new WebAssembly.Instance(new WebAssembly.Module(PROBE)).exports as { p(a: number, b: number, c: number): number }).p;
      const v = p(-128, -1, 7);
      if (v === -130553 || v === 519) probed = "fused";
    }
  } catch {
    // Engines that cannot compile at run time (Workers) keep the split loop.
  }
  return probed;
}
