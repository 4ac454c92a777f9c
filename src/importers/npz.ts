// NumPy .npz archives (zip; members stored or deflated) read with fflate, with
// the inflated size capped (no decompression bombs) and flat member names only.
import { unzipSync } from "fflate";
import { fail } from "../core/errors.js";
import { parseNpy, type NpyArray } from "../format/npy.js";

export const MAX_NPZ_INFLATED = 4 * 2 ** 30;

export function readNpz(bytes: Uint8Array, what: string, maxInflated = MAX_NPZ_INFLATED): Map<string, NpyArray> {
  let total = 0;
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(bytes, {
      filter(file) {
        if (file.name.includes("/") || file.name.includes("\\") || file.name.includes("..")) {
          fail("CHECKPOINT_INVALID", `${what}: member "${file.name}" is not a plain file name`);
        }
        total += file.originalSize;
        if (total > maxInflated) fail("CHECKPOINT_INVALID", `${what}: members inflate to more than ${maxInflated} bytes`);
        return true;
      },
    });
  } catch (e) {
    if ((e as { code?: string }).code?.startsWith?.("CHECKPOINT")) throw e;
    return fail("CHECKPOINT_INVALID", `${what} is not a readable .npz (zip) archive: ${(e as Error).message}`);
  }
  const out = new Map<string, NpyArray>();
  for (const [name, data] of Object.entries(members)) {
    if (!name.endsWith(".npy")) continue;
    try {
      out.set(name.slice(0, -4), parseNpy(data));
    } catch (e) {
      fail("CHECKPOINT_INVALID", `${what}: member ${name}: ${(e as Error).message}`);
    }
  }
  return out;
}
