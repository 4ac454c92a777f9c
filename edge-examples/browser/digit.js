// Drawing pad -> a 28 x 28 MNIST-style input in [0, 1]: the strokes' bounding box
// scaled to fit 20 x 20 (aspect kept, area-averaged), then centred on its centre
// of mass, as the MNIST digits were prepared.

/** Mouse/touch strokes on a canvas; calls onChange after each stroke segment. */
export function drawingPad(canvas, onChange) {
  const ctx = canvas.getContext("2d");
  ctx.lineCap = ctx.lineJoin = "round";
  ctx.strokeStyle = "#fff";
  ctx.lineWidth = canvas.width / 12;
  let last = null;
  const at = (e) => {
    const r = canvas.getBoundingClientRect();
    return [((e.clientX - r.left) * canvas.width) / r.width, ((e.clientY - r.top) * canvas.height) / r.height];
  };
  canvas.addEventListener("pointerdown", (e) => {
    canvas.setPointerCapture(e.pointerId);
    last = at(e);
    ctx.beginPath();
    ctx.arc(last[0], last[1], ctx.lineWidth / 2, 0, 2 * Math.PI);
    ctx.fillStyle = "#fff";
    ctx.fill();
    onChange();
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!last) return;
    const p = at(e);
    ctx.beginPath();
    ctx.moveTo(...last);
    ctx.lineTo(...p);
    ctx.stroke();
    last = p;
    onChange();
  });
  const end = () => (last = null);
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  return { clear: () => ctx.clearRect(0, 0, canvas.width, canvas.height) };
}

/** The pad's ink as 784 floats in [0, 1], or null when it is empty. */
export function toMnist(canvas) {
  const { width: w, height: h } = canvas;
  const ink = canvas.getContext("2d").getImageData(0, 0, w, h).data;
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (ink[(y * w + x) * 4] > 0) [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
    }
  }
  if (x1 < 0) return null;
  // Fit the box into 20 x 20 on a 28 x 28 grid, averaging the ink over each
  // target pixel's area (MNIST's soft edges), then shift by the centre of mass.
  const s = 20 / Math.max(x1 - x0 + 1, y1 - y0 + 1);
  const ox = (28 - (x1 - x0 + 1) * s) / 2, oy = (28 - (y1 - y0 + 1) * s) / 2;
  const v = new Float32Array(784);
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const t = Math.floor(oy + (y - y0) * s) * 28 + Math.floor(ox + (x - x0) * s);
      v[t] += (ink[(y * w + x) * 4] / 255) * s * s;
    }
  }
  let m = 0, cx = 0, cy = 0;
  for (let i = 0; i < 784; i++) {
    v[i] = Math.min(1, v[i]);
    m += v[i];
    cx += v[i] * (i % 28);
    cy += v[i] * Math.floor(i / 28);
  }
  const dx = Math.round(13.5 - cx / m), dy = Math.round(13.5 - cy / m);
  const out = new Float32Array(784);
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const sx = x - dx, sy = y - dy;
      if (sx >= 0 && sx < 28 && sy >= 0 && sy < 28) out[y * 28 + x] = Math.round(v[sy * 28 + sx] * 1000) / 1000;
    }
  }
  return out;
}
