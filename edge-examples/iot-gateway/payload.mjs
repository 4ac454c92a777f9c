// Sensor payloads: JSON (a number, an array of numbers, or {"seq": n, "values": [...]})
// or binary little-endian float32. An MQTT 5 payload-format indicator or content type
// says which; without one, a payload that parses as JSON is JSON.
export const MAX_CHANNELS = 1024;

export class PayloadError extends Error {}

/** → { values: Float32Array, seq?: number } or throws PayloadError. */
export function parsePayload(buf, properties = {}) {
  if (buf.length === 0) throw new PayloadError("empty payload");
  const type = properties.contentType;
  const text = properties.payloadFormatIndicator === true || properties.payloadFormatIndicator === 1 || type === "application/json";
  const binary = type === "application/octet-stream";
  if (!binary) {
    let json;
    try {
      json = JSON.parse(buf.toString("utf8"));
    } catch {
      if (text) throw new PayloadError("not JSON");
    }
    if (json !== undefined) return fromJson(json, properties);
  }
  if (buf.length % 4 !== 0) throw new PayloadError(`binary payload of ${buf.length} bytes is not whole float32 values`);
  if (buf.length / 4 > MAX_CHANNELS) throw new PayloadError(`more than ${MAX_CHANNELS} values`);
  const values = new Float32Array(buf.length / 4);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
  for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(i * 4, true);
  return checked(values, seqOf(properties));
}

function fromJson(json, properties) {
  let seq = seqOf(properties);
  let arr = json;
  if (json !== null && typeof json === "object" && !Array.isArray(json)) {
    arr = json.values;
    if (json.seq !== undefined) {
      if (!Number.isSafeInteger(json.seq) || json.seq < 0) throw new PayloadError("seq is not a non-negative integer");
      seq = json.seq;
    }
  }
  if (typeof arr === "number") arr = [arr];
  if (!Array.isArray(arr) || arr.length === 0) throw new PayloadError("expected a number or a non-empty array of numbers");
  if (arr.length > MAX_CHANNELS) throw new PayloadError(`more than ${MAX_CHANNELS} values`);
  if (!arr.every((v) => typeof v === "number")) throw new PayloadError("array holds something other than numbers");
  return checked(Float32Array.from(arr), seq);
}

function seqOf(properties) {
  const s = properties.userProperties?.seq;
  if (s === undefined) return undefined;
  const n = Number(Array.isArray(s) ? s[0] : s);
  if (!Number.isSafeInteger(n) || n < 0) throw new PayloadError("user property seq is not a non-negative integer");
  return n;
}

function checked(values, seq) {
  if (!values.every(Number.isFinite)) throw new PayloadError("a value is NaN, infinite or beyond float32");
  return { values, seq };
}
