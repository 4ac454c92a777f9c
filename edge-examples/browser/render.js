// 28 x 28 float images onto canvases.

/** Grey ink: 0 black, 1 white (values clamped). */
export function drawGrey(canvas, v) {
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const g = Math.round(255 * Math.min(1, Math.max(0, v[i])));
    img.data.set([g, g, g, 255], i * 4);
  }
  ctx.putImageData(img, 0, 0);
}

/** A decoder atom: red where it adds ink, blue where it removes it, scaled by its largest |value|. */
export function drawAtom(canvas, v) {
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(28, 28);
  let max = 1e-12;
  for (const a of v) max = Math.max(max, Math.abs(a));
  for (let i = 0; i < 784; i++) {
    const t = v[i] / max;
    const rgb = t >= 0 ? [255, 255 * (1 - t), 255 * (1 - t)] : [255 * (1 + t), 255 * (1 + t), 255];
    img.data.set([...rgb.map(Math.round), 255], i * 4);
  }
  ctx.putImageData(img, 0, 0);
}
