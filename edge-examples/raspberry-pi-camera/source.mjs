// Where frames come from: stdin, a file, or a camera command that is started again
// (with backoff) whenever it exits, e.g. after the camera was unplugged or crashed.
import { spawn } from "node:child_process";
import { createReadStream } from "node:fs";
import { cutFrames } from "./frames.mjs";

/**
 * Yields whole frames. o: { input, exec, restarts, frameBytes, onPartial(bytes, streamBytes), onExit({ code, restartInMs }) }.
 * A command's partial last frame is dropped, so the next run starts on a frame boundary.
 */
export async function* frameSource(o) {
  if (!o.exec) {
    const stream = o.input === "-" ? process.stdin : createReadStream(o.input);
    yield* cutFrames(stream, o.frameBytes, (left, seen) => left && o.onPartial(left, seen));
    return;
  }
  let delay = 500;
  for (let run = 0; ; run++) {
    const child = spawn("sh", ["-c", o.exec], { stdio: ["ignore", "pipe", "inherit"] });
    o.onChild?.(child);
    const exited = new Promise((r) => child.once("close", (code, signal) => r(code ?? signal)));
    const started = Date.now();
    yield* cutFrames(child.stdout, o.frameBytes, (left, seen) => left && o.onPartial(left, seen));
    const code = await exited;
    if (o.stopped?.() || run >= (o.restarts ?? Infinity)) return;
    // A camera that ran a while restarts at once; one that keeps failing, less and less often.
    if (Date.now() - started > 10_000) delay = 500;
    o.onExit({ code, restartInMs: delay });
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(30_000, delay * 2);
  }
}
