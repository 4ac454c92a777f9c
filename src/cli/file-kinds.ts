// Names a file that is not what a command expects by what it is (from its magic bytes), and
// says what the command wants instead: "test.npy is a .npy array, not a model: …".
import { realpath, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fail } from "../base/errors.js";
import { bytesSource, type ByteSource } from "../base/byte-source.js";
import { fileKind, type FileKind } from "../format/file-kind.js";
import { FORMAT_NAME } from "../model/spec.js";
import { fileSource } from "../adapters/node/index.js";

/** "a .npy array (float32 [9, 20])", "an sae-edge model", …; undefined if unrecognized. */
export function describeKind(k: FileKind): string | undefined {
  switch (k.kind) {
    case "npy": return `a .npy array${k.dtype ? ` (${k.dtype} [${k.shape!.join(", ")}])` : ""}`;
    case "npz": return "a .npz archive of arrays";
    case "torch-zip": return "a PyTorch checkpoint (.pt, zip)";
    case "torch-legacy": return "a legacy PyTorch checkpoint (.pt, pickle)";
    case "pickle": return "a Python pickle";
    case "zip": return "a zip archive";
    case "safetensors": return k.metadata.format === FORMAT_NAME ? "an sae-edge model" : "a safetensors file without sae-edge metadata";
    case "json": return "a JSON file";
    case "empty": return "an empty file";
    case "unknown": return undefined;
  }
}

const isCheckpointFile = (k: FileKind) => ["npz", "torch-zip", "torch-legacy", "pickle", "json"].includes(k.kind) || (k.kind === "safetensors" && k.metadata.format !== FORMAT_NAME);
const QUANTIZE_FIRST = "quantize the checkpoint first (sae-edge quantize CHECKPOINT -o MODEL)";

/** Fails unless `src` may be an sae-edge model (anything unrecognized is left to the model reader to judge). */
export async function expectModel(path: string, src: ByteSource, usage: string): Promise<void> {
  const k = await fileKind(src);
  if (k.kind === "unknown" || (k.kind === "safetensors" && k.metadata.format === FORMAT_NAME)) return;
  const hint = k.kind === "npy" ? `the model comes first (${usage})` : isCheckpointFile(k) ? QUANTIZE_FIRST : `${usage} needs an sae-edge model`;
  fail("INVALID_ARGUMENT", `${path} is ${describeKind(k)}, not an sae-edge model: ${hint}`);
}

/** Fails if `bytes` are recognizably something other than a .npy array (the .npy reader judges the rest). */
export async function notAnArray(path: string, bytes: Uint8Array, usage?: string): Promise<void> {
  const k = await fileKind(bytesSource(bytes));
  if (k.kind === "npy" || k.kind === "unknown" || k.kind === "empty") return;
  fail("INVALID_ARGUMENT", `${path} is ${describeKind(k)}, not a .npy array${usage ? ` (${usage})` : ""}`);
}

const CHECKPOINT = "a checkpoint folder (e.g. SAELens cfg.json + sae_weights.safetensors, Gemma Scope params.npz, a torch .pt) or a file in one";

/** Fails if `path` is a file that cannot stand for a checkpoint folder (a missing path is left to the folder reader). */
export async function expectCheckpoint(path: string, command: string): Promise<void> {
  if (!(await stat(path).catch(() => null))?.isFile()) return;
  const src = await fileSource(path);
  try {
    const k = await fileKind(src);
    if (isCheckpointFile(k)) return;
    const what = describeKind(k) ?? "a file sae-edge does not recognize";
    fail("INVALID_ARGUMENT", `${path} is ${what}, not a checkpoint: ${command} expects ${CHECKPOINT}`);
  } finally {
    await src.close?.();
  }
}

/**
 * Fails if `output` is a file of the checkpoint `checkpoint` (its weights or cfg.json, in its
 * folder): quantize -o would replace the checkpoint with the model. A model written there
 * before may be replaced.
 */
export async function notCheckpointFile(output: string, checkpoint: string, hookpoint?: string): Promise<void> {
  const info = await stat(checkpoint).catch(() => undefined);
  const folder = info?.isFile() ? dirname(checkpoint) : hookpoint ? join(checkpoint, hookpoint) : checkpoint;
  const [a, b] = await Promise.all([realpath(dirname(output)), realpath(folder)].map((p) => p.catch(() => undefined)));
  if (a === undefined || a !== b || !(await stat(output).catch(() => undefined))?.isFile()) return;
  const src = await fileSource(output);
  try {
    if (isCheckpointFile(await fileKind(src))) fail("INVALID_ARGUMENT", `output ${output} is a file of the checkpoint ${checkpoint}; give another file name`);
  } finally {
    await src.close?.();
  }
}
