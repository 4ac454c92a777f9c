// Per-row reconstruction error, accumulated in f64 in input order (shared by
// every build): squared L2 and squared L2 / ||x||^2.
export function reconErrorRow(x: usize, xhat: usize, d: i32, outSq: usize, outNorm: usize): void {
  let sq: f64 = 0;
  let nrm: f64 = 0;
  for (let i = 0; i < d; i++) {
    const xi = <f64>load<f32>(x + (<usize>i << 2));
    const e = xi - <f64>load<f32>(xhat + (<usize>i << 2));
    sq += e * e;
    nrm += xi * xi;
  }
  store<f64>(outSq, sq);
  // ||x|| = 0: the relative error is 0 for a perfect reconstruction, else infinite.
  store<f64>(outNorm, nrm > 0 ? sq / nrm : (sq == 0 ? 0 : Infinity));
}
