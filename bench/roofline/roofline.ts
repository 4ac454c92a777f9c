// @ts-nocheck: AssemblyScript (v128, i32x4, usize), compiled by asc; tsc only needs to parse it.
// The machine's memory ceiling in wasm: sequential read bandwidth with v128 loads. (The compute
// ceiling is the encoder kernels' own throughput on L2-resident weights: roofline.mjs.)
// Compiled by bench/roofline/roofline.mjs.

export function alloc(bytes: usize): usize {
  return heap.alloc(bytes);
}

// Reads [p, p + bytes) once (bytes a multiple of 256); returns a checksum so the loads stay.
export function read_bw(p: usize, bytes: usize): i32 {
  let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
  const end = p + bytes;
  for (; p < end; p += 256) {
    a0 = i32x4.add(a0, i32x4.add(v128.load(p), v128.load(p, 16)));
    a1 = i32x4.add(a1, i32x4.add(v128.load(p, 32), v128.load(p, 48)));
    a2 = i32x4.add(a2, i32x4.add(v128.load(p, 64), v128.load(p, 80)));
    a3 = i32x4.add(a3, i32x4.add(v128.load(p, 96), v128.load(p, 112)));
    a0 = i32x4.add(a0, i32x4.add(v128.load(p, 128), v128.load(p, 144)));
    a1 = i32x4.add(a1, i32x4.add(v128.load(p, 160), v128.load(p, 176)));
    a2 = i32x4.add(a2, i32x4.add(v128.load(p, 192), v128.load(p, 208)));
    a3 = i32x4.add(a3, i32x4.add(v128.load(p, 224), v128.load(p, 240)));
  }
  const s = i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3));
  return i32x4.extract_lane(s, 0) ^ i32x4.extract_lane(s, 1) ^ i32x4.extract_lane(s, 2) ^ i32x4.extract_lane(s, 3);
}
