// Seeded draws (mulberry32 + Box-Muller), so a bench sees the same numbers every run.
export function rng(seed) {
  let a = seed >>> 0;
  const u = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const n = () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  // Student-t with 3 degrees of freedom: N(0, 1) / √(χ²₃ / 3), heavy tails like activation outliers.
  const t3 = () => n() / Math.sqrt((n() ** 2 + n() ** 2 + n() ** 2) / 3);
  return { u, n, t3 };
}
