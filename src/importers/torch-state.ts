// Shared by the importers of torch.save'd state dicts: find the .pt, read it safely,
// and take tensors by name with their expected shapes.
import { fail, type SaeEdgeError } from "../base/errors.js";
import { isTensor, readTorchPt, type TorchTensor } from "../format/torch-pickle.js";
import type { CheckpointFiles } from "./types.js";

export interface StateDict {
  file: string;
  entries: Map<unknown, unknown>;
  tensor(name: string, shape?: number[]): TorchTensor;
  has(name: string): boolean;
  /** Entries neither asked for (tensor/has) nor in `ignored`: for a warning, so nothing is dropped silently. */
  unread(ignored?: readonly string[]): string[];
}

export function ptFiles(names: string[]): string[] {
  return names.filter((n) => /\.(pt|pth)$/.test(n));
}

export async function readStateDict(files: CheckpointFiles, file: string): Promise<StateDict> {
  const top = readTorchPt(await files.read(file), file);
  return stateDictOf(top instanceof Map ? top : fail("CHECKPOINT_INVALID", `${file} does not hold a state dict`), file);
}

/** Named-tensor access to a dict read from a .pt (`file` names it in messages). */
export function stateDictOf(entries: Map<unknown, unknown>, file: string): StateDict {
  const asked = new Set<string>();
  return {
    file,
    entries,
    has: (name) => (asked.add(name), isTensor(entries.get(name))),
    unread: (ignored = []) => [...entries.keys()].map(String).filter((k) => !asked.has(k) && !ignored.includes(k)),
    tensor(name, shape) {
      asked.add(name);
      const t = entries.get(name);
      if (!isTensor(t)) fail("CHECKPOINT_INVALID", `${file} lacks tensor ${name}`);
      if (shape && t.shape.join() !== shape.join()) fail("CHECKPOINT_INVALID", `${file}: ${name} has shape [${t.shape}], expected [${shape}]`);
      return t;
    },
  };
}

/** The warning for entries of a state dict that an importer did not read (none: no warning). */
export function unreadWarning(sd: StateDict, ignored?: readonly string[]): string[] {
  const keys = sd.unread(ignored);
  return keys.length ? [`${sd.file} holds entries sae-edge does not read: ${keys.join(", ")}`] : [];
}

/** Float32 copy of a 2-D tensor transposed ([a][b] → [b][a]). */
export function transposed(t: TorchTensor): Float32Array {
  const [a, b] = t.shape;
  const out = new Float32Array(a * b);
  for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) out[j * a + i] = t.data[i * b + j];
  return out;
}

export function f32(t: TorchTensor): Float32Array {
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
}

/** Detects a single .pt in the folder whose state dict has all these tensors. */
export async function hasStateDict(files: CheckpointFiles, keys: string[], fileName?: string): Promise<boolean> {
  const pts = ptFiles(await files.list()).filter((n) => !fileName || n === fileName);
  if (pts.length !== 1) return false;
  try {
    const sd = await readStateDict(files, pts[0]);
    return keys.every((k) => sd.entries.has(k));
  } catch (e) {
    // A .pt that no family can read (a pickled module) says so, rather than "not a checkpoint".
    if ((e as SaeEdgeError).code === "CHECKPOINT_UNSUPPORTED") throw e;
    return false;
  }
}
