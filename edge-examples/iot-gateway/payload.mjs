// Sensor payloads: JSON (a number, an array of numbers, or {"seq": n, "values": [...]})
// or binary little-endian float32. An MQTT 5 payload-format indicator or content type
// says which; without one, a payload that parses as JSON is JSON. Work and memory are
// bounded by `maxValues`: a payload longer than that many values can be is refused unread.
export const MAX_VALUES = 64;

/** `limit` names the cap a payload broke (it is dropped, not malformed). */
export class PayloadError extends Error {
  constructor(message, limit) {
    super(message);
    this.limit = limit;
  }
}

/** The longest payload `maxValues` values can take: float32 bytes, or JSON numbers of up to 32 characters. */
export const maxPayloadBytes = (maxValues) => 64 + 32 * maxValues;

/** → { values: Float32Array, seq?: number } or throws PayloadError. */
export function parsePayload(buf, properties = {}, maxValues = MAX_VALUES) {
  if (buf.length === 0) throw new PayloadError("empty payload");
  if (buf.length > maxPayloadBytes(maxValues)) throw new PayloadError(`${buf.length} bytes, more than ${maxValues} values take`, "oversized");
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
    if (json !== undefined) return fromJson(json, properties, maxValues);
  }
  if (buf.length % 4 !== 0) throw new PayloadError(`binary payload of ${buf.length} bytes is not whole float32 values`);
  if (buf.length / 4 > maxValues) throw new PayloadError(`more than ${maxValues} values`, "too-many-values");
  const values = new Float32Array(buf.length / 4);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
  for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(i * 4, true);
  return checked(values, seqOf(properties));
}

function fromJson(json, properties, maxValues) {
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
  if (arr.length > maxValues) throw new PayloadError(`more than ${maxValues} values`, "too-many-values");
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
