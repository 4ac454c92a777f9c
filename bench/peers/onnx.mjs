// The SAE encoder as ONNX graphs, written with a ~50-line protobuf encoder: the schema subset we
// need is small and fixed, so no codegen or protobuf package (and no .proto file at run time).
// Field numbers are those of onnx/onnx.proto (ModelProto, GraphProto, NodeProto, TensorProto, …).

const T = { FLOAT: 1, UINT8: 2, INT8: 3, INT64: 7 };

// Protobuf wire format: varint (0) and length-delimited (2) are all this schema subset needs.
function varint(n) {
  const out = [];
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n;
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Uint8Array.from(out);
}
const intField = (field, n) => [varint(field << 3), varint(n)];
function bytesField(field, bytes) {
  if (typeof bytes === "string") bytes = new TextEncoder().encode(bytes);
  return [varint((field << 3) | 2), varint(bytes.length), bytes];
}
// A nested message is a list of chunks; flatten only at the end so big tensors are copied once.
const msgField = (field, chunks) => [varint((field << 3) | 2), varint(chunks.reduce((s, c) => s + c.length, 0)), ...chunks];

function tensor(name, dataType, dims, data) {
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return [...dims.flatMap((d) => intField(1, d)), ...intField(2, dataType), ...bytesField(8, name), ...bytesField(9, raw)];
}
function attr(name, value) {
  // AttributeProto: name 1, i 3, type 20 (INT = 2).
  return [...bytesField(1, name), ...intField(3, value), ...intField(20, 2)];
}
function node(op, inputs, outputs, attrs = {}) {
  return [
    ...inputs.flatMap((s) => bytesField(1, s)),
    ...outputs.flatMap((s) => bytesField(2, s)),
    ...bytesField(3, `${op}_${outputs[0]}`),
    ...bytesField(4, op),
    ...Object.entries(attrs).flatMap(([k, v]) => msgField(5, attr(k, v))),
  ];
}
function valueInfo(name, elemType, dims) {
  const shape = dims.flatMap((d) => msgField(1, typeof d === "string" ? bytesField(2, d) : intField(1, d)));
  return [...bytesField(1, name), ...msgField(2, msgField(1, [...intField(1, elemType), ...msgField(2, shape)]))];
}

function model(nodes, inits, inputs, outputs) {
  const graph = [
    ...nodes.flatMap((n) => msgField(1, n)),
    ...bytesField(2, "sae_encoder"),
    ...inits.flatMap((t) => msgField(5, t)),
    ...inputs.flatMap((v) => msgField(11, v)),
    ...outputs.flatMap((v) => msgField(12, v)),
  ];
  const chunks = [...intField(1, 8), ...bytesField(2, "sae-edge bench"), ...msgField(7, graph), ...msgField(8, intField(2, 17))];
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

// The activation on h [N, dSae]; returns [nodes, initializers, outputs].
function activation(d, h) {
  if (d.arch === "topk") {
    return [
      [node("TopK", [h, "k"], ["top_raw", "indices"], { axis: -1, largest: 1, sorted: 1 }), node("Relu", ["top_raw"], ["values"])],
      [tensor("k", T.INT64, [1], BigInt64Array.of(BigInt(d.k)))],
      [valueInfo("values", T.FLOAT, ["N", d.k]), valueInfo("indices", T.INT64, ["N", d.k])],
    ];
  }
  if (d.arch === "jumprelu") {
    // f = h where h > max(θ, 0), else 0 (the bar folded at build time).
    const bar = d.threshold.map((t) => Math.max(t, 0));
    return [
      [node("Greater", [h, "bar"], ["on"]), node("Where", ["on", h, "zero"], ["z"])],
      [tensor("bar", T.FLOAT, [d.dSae], bar), tensor("zero", T.FLOAT, [], Float32Array.of(0))],
      [valueInfo("z", T.FLOAT, ["N", d.dSae])],
    ];
  }
  return [[node("Relu", [h], ["z"])], [], [valueInfo("z", T.FLOAT, ["N", d.dSae])]];
}

/** f32: z = act((x − b_dec) W + b_enc), W [dIn][dSae]. */
export function f32Graph(d) {
  const [actNodes, actInits, outputs] = activation(d, "h");
  return model(
    [node("Sub", ["x", "b_dec"], ["xc"]), node("MatMul", ["xc", "W"], ["mm"]), node("Add", ["mm", "b_enc"], ["h"]), ...actNodes],
    [tensor("b_dec", T.FLOAT, [d.dIn], d.b_dec), tensor("W", T.FLOAT, [d.dIn, d.dSae], d.W), tensor("b_enc", T.FLOAT, [d.dSae], d.b_enc), ...actInits],
    [valueInfo("x", T.FLOAT, ["N", d.dIn])],
    outputs,
  );
}

/**
 * int8: x − b_dec quantized per tensor to u8 (DynamicQuantizeLinear), MatMulInteger with the same
 * int8 weights as sae-edge (Wq [dIn][dSae], symmetric per latent), then h = acc · (s_x · scale_j) + b_enc.
 * weights "u8": the same integers stored as Wq + 128 with a zero point of 128 (onnxruntime's U8U8),
 * the same products exactly.
 */
export function int8Graph(d, weights = "s8") {
  const [actNodes, actInits, outputs] = activation(d, "h");
  const u8 = weights === "u8";
  const wInits = u8
    ? [tensor("Wq", T.UINT8, [d.dIn, d.dSae], Uint8Array.from(d.Wq, (q) => q + 128)), tensor("wz", T.UINT8, [], Uint8Array.of(128))]
    : [tensor("Wq", T.INT8, [d.dIn, d.dSae], d.Wq)];
  return model(
    [
      node("Sub", ["x", "b_dec"], ["xc"]),
      node("DynamicQuantizeLinear", ["xc"], ["xq", "xs", "xz"]),
      node("MatMulInteger", u8 ? ["xq", "Wq", "xz", "wz"] : ["xq", "Wq", "xz"], ["acc"]),
      node("Cast", ["acc"], ["accf"], { to: T.FLOAT }),
      node("Mul", ["xs", "w_scale"], ["s"]),
      node("Mul", ["accf", "s"], ["hs"]),
      node("Add", ["hs", "b_enc"], ["h"]),
      ...actNodes,
    ],
    [tensor("b_dec", T.FLOAT, [d.dIn], d.b_dec), ...wInits, tensor("w_scale", T.FLOAT, [d.dSae], d.w_scale), tensor("b_enc", T.FLOAT, [d.dSae], d.b_enc), ...actInits],
    [valueInfo("x", T.FLOAT, ["N", d.dIn])],
    outputs,
  );
}
