// The worker side of a SaePool: loads the model once, then answers calls on row chunks.
// Errors travel as {code, message} with rows renumbered to the caller's whole input.
import { SaeEdgeError } from "../base/errors.js";
import type { LoadOptions } from "../runtime/index.js";
import type { Sae, SparseCodes, Scores } from "../runtime/index.js";
import type { ToWorker, WorkerPort, WireError } from "./protocol.js";

export function serveSae(port: WorkerPort, load: (model: unknown, options: LoadOptions) => Promise<Sae>): void {
  let sae: Promise<Sae> | undefined;
  port.listen(async (msg: ToWorker) => {
    if (msg.type === "init") {
      sae = load(msg.model, { kernel: msg.kernel });
      sae.then((s) => port.post({ type: "ready", info: { ...s.info } }), (e) => port.post({ type: "error", id: null, error: wire(e, 0) }));
      return;
    }
    try {
      if (!sae) throw new SaeEdgeError("INTERNAL", "pool worker called before init");
      const s = await sae;
      const { result, transfer } = run(s, msg.method, msg.x, msg.rows);
      port.post({ type: "result", id: msg.id, result }, transfer);
    } catch (e) {
      port.post({ type: "error", id: msg.id, error: wire(e, msg.start) });
    }
  });
}

function run(sae: Sae, method: string, x: Float32Array, rows: number): { result: unknown; transfer: ArrayBuffer[] } {
  const buffers = (...arrays: (ArrayBufferView | undefined)[]) => arrays.filter((a): a is ArrayBufferView => a !== undefined).map((a) => a.buffer as ArrayBuffer);
  if (method === "encode") {
    const c: SparseCodes = sae.encode(x, rows);
    return { result: c, transfer: buffers(c.rowOffsets, c.indices, c.values, c.rowNorm) };
  }
  if (method === "encodeDense") {
    const z = sae.encodeDense(x, rows);
    return { result: z, transfer: buffers(z) };
  }
  if (method === "score") {
    const s: Scores = sae.score(x, rows);
    return { result: s, transfer: buffers(s.squared, s.normalized) };
  }
  throw new SaeEdgeError("INTERNAL", `pool worker: unknown method ${method}`);
}

function wire(e: unknown, start: number): WireError {
  if (e instanceof SaeEdgeError) {
    const at = e.atRowOffset(start);
    return { code: at.code, message: at.message, row: at.row };
  }
  return { code: "INTERNAL", message: `pool worker failed: ${(e as Error)?.message ?? String(e)}` };
}
