// The learned models in --model-dir, one `<device>@<stream>.safetensors` per stream. A file
// that does not load or cannot score its stream (damaged, uncalibrated, not a gateway
// model) is moved aside as `<file>.broken-<time>`, with a `model-quarantined` event, and
// its stream learns again: one bad file never keeps the gateway from starting.
import { readdirSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { loadSae, syncFolderSync, writeFileAtomicSync } from "sae-edge";
import { modelProblem } from "./detector.mjs";

const SUFFIX = ".safetensors";
export const NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$/; // a device or stream name that is safe as a file name

export const modelPath = (dir, key) => join(dir, `${key.replace("/", "@")}${SUFFIX}`);
export const saveModel = (dir, key, bytes) => writeFileAtomicSync(modelPath(dir, key), bytes);

/** Loads every model in `dir` → Map "device/stream" → Sae; quarantines the ones that fail. */
export async function loadModels(dir, kernel, log) {
  const models = new Map();
  for (const f of readdirSync(dir).filter((f) => f.endsWith(SUFFIX))) {
    const [device, stream, ...rest] = f.slice(0, -SUFFIX.length).split("@");
    const key = `${device}/${stream}`;
    let problem = rest.length || !NAME.test(device) || !NAME.test(stream ?? "") ? "its name is not <device>@<stream>.safetensors" : null;
    if (!problem) {
      let sae;
      try {
        sae = await loadSae(readFileSync(join(dir, f)), { kernel });
        problem = modelProblem(sae);
      } catch (e) {
        if (e.name !== "SaeEdgeError") throw e; // a file system error: the folder itself is the problem
        problem = `${e.message} [${e.code}]`;
      }
      if (!problem) {
        models.set(key, sae);
        log({ event: "model-loaded", stream: key });
        continue;
      }
      sae?.dispose();
    }
    const movedTo = `${f}.broken-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    renameSync(join(dir, f), join(dir, movedTo));
    syncFolderSync(dir);
    log({ event: "model-quarantined", stream: key, file: f, movedTo, reason: problem });
  }
  return models;
}
