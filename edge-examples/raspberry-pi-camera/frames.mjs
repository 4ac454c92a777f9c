// Raw I420 frames from a byte stream: the Y plane (stride × height bytes) then U and V
// (stride/2 × height/2 each). Cuts the stream into whole frames and says what is left
// over at the end (a partial frame, or a size that fits another stride).
export function i420Bytes(stride, height) {
  return stride * height + 2 * (Math.ceil(stride / 2) * Math.ceil(height / 2));
}

/** Yields each whole frame (a Buffer view, valid until the next one); tail(leftover, streamBytes) at the end. */
export async function* cutFrames(stream, frameBytes, tail) {
  let pending = [], have = 0, seen = 0;
  for await (const chunk of stream) {
    pending.push(chunk);
    have += chunk.length;
    seen += chunk.length;
    if (have < frameBytes) continue;
    let buf = Buffer.concat(pending, have);
    let off = 0;
    for (; off + frameBytes <= buf.length; off += frameBytes) yield buf.subarray(off, off + frameBytes);
    buf = buf.subarray(off);
    pending = buf.length ? [Buffer.from(buf)] : [];
    have = buf.length;
  }
  tail?.(have, seen);
}

// Frame sizes of camera modes and video standards, for guessing what a raw stream holds.
const COMMON_SIZES = [
  [160, 120], [176, 144], [320, 240], [352, 288], [640, 480], [720, 480], [720, 576], [800, 600], [960, 540],
  [1024, 768], [1280, 720], [1280, 960], [1296, 972], [1332, 990], [1536, 864], [1640, 1232], [1920, 1080],
  [2028, 1080], [2028, 1520], [2304, 1296], [3280, 2464], [4056, 3040], [4608, 2592],
];
// Camera buffers pad a row to a multiple of at most 64 bytes, so a stride is less than 64 over.
const MAX_ROW_PADDING = 64;

/**
 * Why a stream of `total` bytes is not whole frames of this geometry, and the geometry it
 * fits: a stride a little over the width (row padding), else a common frame size. null if it is whole.
 */
export function sizeHint(total, width, height, stride) {
  const frame = i420Bytes(stride, height);
  if (total % frame === 0) return null;
  const frames = (s, h) => (total >= i420Bytes(s, h) && total % i420Bytes(s, h) === 0 ? total / i420Bytes(s, h) : 0);
  for (let s = Math.ceil((width + 1) / 16) * 16; s < width + MAX_ROW_PADDING; s += 16) {
    if (s !== stride && frames(s, height)) return `${total} bytes are ${frames(s, height)} frames at stride ${s} (try --stride ${s})`;
  }
  // Small frames divide big files by chance, so the largest size that fits is the likeliest
  // (one with at least 2 frames first); the one with the requested aspect ratio is named too.
  const fits = COMMON_SIZES.filter(([w, h]) => frames(w, h) && !(w === width && h === height)).sort((a, b) => b[0] * b[1] - a[0] * a[1]);
  const best = fits.find(([w, h]) => frames(w, h) >= 2) ?? fits[0];
  const aspect = fits.find(([w, h]) => w * height === h * width);
  const size = ([w, h]) => `${frames(w, h)} frames of ${w}×${h} (try --width ${w} --height ${h})`;
  if (best) return `${total} bytes are not whole ${width}×${height} frames; they are ${size(best)}${aspect && aspect !== best ? ` or ${size(aspect)}` : ""}`;
  return `${total} bytes are ${Math.floor(total / frame)} frames of ${frame} bytes and ${total % frame} bytes over`;
}
