// The worker side of a SaePool: loads the model (or its latent slice) once, then answers calls.
// Errors travel as {code, message} with rows renumbered to the caller's whole input.
import { SaeEdgeError } from "../base/errors.js";
import { openKernelModelFrom, type LoadOptions, type WasmBuilds } from "../runtime/index.js";
import type { Sae, SaeInfo, SparseCodes, Scores } from "../runtime/index.js";
import type { ByteSource } from "../base/byte-source.js";
import { readSliceTensor } from "../model/latent-slices.js";
import type { ToWorker, WorkerPort, WireError } from "./protocol.js";
import { LatentWorker, type Candidates } from "./latent-worker.js";
import { serveChannel } from "./channel.js";

/** What a worker needs to hold a latent slice: the adapter's kernel builds and, to read the slice itself, its model opener. */
export interface SliceSupport {
  builds(model: unknown): WasmBuilds;
  open(model: unknown): Promise<ByteSource>;
}

type Served = { kind: "rows"; sae: Sae } | { kind: "latents"; slice: LatentWorker };

export function serveSae(port: WorkerPort, load: (model: unknown, options: LoadOptions) => Promise<Sae>, slices?: SliceSupport): void {
  let served: Promise<Served> | undefined;
  port.listen(async (msg: ToWorker) => {
    if (msg.type === "init") {
      served = start(msg, load, slices);
      const { channel } = msg;
      served.then((s) => {
        const viaChannel = channel !== undefined && s.kind === "latents";
        if (viaChannel) serveChannel(channel, (x, rows) => s.slice.candidates(x, rows), (e) => wire(e, 0));
        port.post({ type: "ready", info: info(s), channel: viaChannel });
      }, (e) => port.post({ type: "error", id: null, error: wire(e, 0) }));
      return;
    }
    try {
      if (!served) throw new SaeEdgeError("INTERNAL", "pool worker called before init");
      const { result, transfer } = run(await served, msg);
      port.post({ type: "result", id: msg.id, result }, transfer);
    } catch (e) {
      port.post({ type: "error", id: msg.id, error: wire(e, msg.start) });
    }
  });
}

async function start(msg: Extract<ToWorker, { type: "init" }>, load: (model: unknown, options: LoadOptions) => Promise<Sae>, slices?: SliceSupport): Promise<Served> {
  const { slice, model, kernel } = msg;
  if (!slice) return { kind: "rows", sae: await load(model, { kernel }) };
  if (!slices) throw new SaeEdgeError("INTERNAL", "this pool worker cannot hold a latent slice");
  const sizes = Object.fromEntries(Object.entries(slice.ranges).map(([name, [, bytes]]) => [name, bytes]));
  // The pool sent the slice's tensors, or the worker reads them from the model straight into wasm memory.
  const { tensors } = slice;
  const source = tensors ? null : await slices.open(model);
  try {
    const read = (name: string, into: Uint8Array) => (tensors ? Promise.resolve(into.set(tensors[name]!)) : readSliceTensor(source!, slice, name, into));
    return { kind: "latents", slice: new LatentWorker(await openKernelModelFrom(slices.builds(model), slice.spec, sizes, read, kernel), slice) };
  } finally {
    await source?.close?.();
  }
}

function info(s: Served): SaeInfo {
  return s.kind === "rows" ? { ...s.sae.info } : s.slice.info;
}

const buffers = (...arrays: (ArrayBufferView | undefined)[]) => arrays.filter((a): a is ArrayBufferView => a !== undefined).map((a) => a.buffer as ArrayBuffer);
const codesBuffers = (c: SparseCodes) => buffers(c.rowOffsets, c.indices, c.values, c.rowNorm);

function run(s: Served, msg: Extract<ToWorker, { type: "call" }>): { result: unknown; transfer: ArrayBuffer[] } {
  const { method, x, rows } = msg;
  if (method === "memory") return { result: s.kind === "rows" ? s.sae.memoryBytes : s.slice.memoryBytes, transfer: [] };
  if (s.kind === "latents") {
    if (method === "encode") {
      const c = s.slice.encode(x, rows);
      return { result: c, transfer: codesBuffers(c) };
    }
    if (method === "candidates") {
      const c: Candidates = s.slice.candidates(x, rows);
      return { result: c, transfer: [c.count.buffer as ArrayBuffer] }; // its arrays share one buffer
    }
    if (method === "scoreCodes" && msg.codes) {
      const sc: Scores = s.slice.scoreCodes(x, rows, msg.codes);
      return { result: sc, transfer: buffers(sc.squared, sc.normalized) };
    }
  } else if (method === "encode") {
    const c: SparseCodes = s.sae.encode(x, rows);
    return { result: c, transfer: codesBuffers(c) };
  } else if (method === "encodeDense") {
    const z = s.sae.encodeDense(x, rows);
    return { result: z, transfer: buffers(z) };
  } else if (method === "score") {
    const sc: Scores = s.sae.score(x, rows);
    return { result: sc, transfer: buffers(sc.squared, sc.normalized) };
  }
  throw new SaeEdgeError("INTERNAL", `pool worker (${s.kind} split): unknown method ${method}`);
}

function wire(e: unknown, start: number): WireError {
  if (e instanceof SaeEdgeError) {
    const at = e.atRowOffset(start);
    return { code: at.code, message: at.message, row: at.row };
  }
  return { code: "INTERNAL", message: `pool worker failed: ${(e as Error)?.message ?? String(e)}` };
}
