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

/** Why a stream of `total` bytes does not divide into frames, with a stride that would fit. */
export function sizeHint(total, width, height, stride) {
  const frame = i420Bytes(stride, height);
  if (total % frame === 0) return null;
  for (let s = width; s <= width + 256; s += 16) {
    const f = i420Bytes(s, height);
    if (s !== stride && total >= f && total % f === 0) return `${total} bytes are ${total / f} frames at stride ${s} (try --stride ${s})`;
  }
  return `${total} bytes are ${Math.floor(total / frame)} frames of ${frame} bytes and ${total % frame} bytes over`;
}
