// One fuzzing process: runs the inputs the driver (fuzz/fuzz.mjs) names, one at a time, and
// reports each one's outcome, time and peak memory. Peak memory is the kernel's high-water mark
// of this process, reset before each input (Linux /proc/self/clear_refs); elsewhere the
// process's lifetime peak, which only shows inputs that raise it.
import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const engine = await import(pathToFileURL(process.env.SAE_FUZZ_ENGINE).href);
const MIB = 1 << 20;
const LIMIT_MS = 1000;
const limitBytes = (size) => 4 * size + 64 * MIB;

const proc = (() => {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    readFileSync("/proc/self/status", "utf8");
    return true;
  } catch {
    return false;
  }
})();
function memoryNow() {
  if (!proc) return { rss: process.memoryUsage.rss(), peak: process.resourceUsage().maxRSS * 1024 };
  const s = readFileSync("/proc/self/status", "utf8");
  return { rss: 1024 * Number(/VmRSS:\s+(\d+)/.exec(s)[1]), peak: 1024 * Number(/VmHWM:\s+(\d+)/.exec(s)[1]) };
}
const resetPeak = () => proc && writeFileSync("/proc/self/clear_refs", "5");

// Ctrl-C in a terminal reaches the whole process group: the driver decides when to stop.
process.on("SIGINT", () => {});

let corpus, formats, seed;
const seen = new Set();

async function measure(format, input) {
  resetPeak();
  const before = memoryNow().rss;
  const t0 = performance.now();
  let outcome, error;
  try {
    outcome = await engine.runInput(format, input);
  } catch (e) {
    error = e;
  }
  const ms = performance.now() - t0;
  const mem = Math.max(0, memoryNow().peak - before);
  return { outcome, error, ms, mem };
}

async function one(format, input, index) {
  const size = Object.values(input).reduce((n, b) => n + b.length, 0);
  let { outcome, error, ms, mem } = await measure(format, input);
  // A slow input is timed once more: on a shared machine a stall is not the input's doing.
  if (ms > LIMIT_MS && !error) ms = Math.min(ms, (await measure(format, input)).ms);
  const result = { index, format, size, ms, mem, outcome: outcome ?? "UNTYPED" };
  const kinds = [];
  if (error) kinds.push("untyped");
  if (ms > LIMIT_MS) kinds.push("slow");
  if (mem > limitBytes(size)) kinds.push("memory");
  if (kinds.length) {
    result.kinds = kinds;
    result.input = input;
    if (error) {
      const sig = engine.signature(error);
      result.error = { signature: sig, message: String(error?.message ?? error), stack: String(error?.stack ?? "") };
      if (!seen.has(sig)) {
        seen.add(sig);
        result.input = await engine.minimize(format, input, sig);
        result.minimized = true;
      }
    }
  }
  return result;
}

process.on("message", async (msg) => {
  if (msg.type === "init") {
    corpus = await engine.loadCorpus(msg.corpus);
    ({ formats, seed } = msg);
    process.send({ type: "ready" });
  } else if (msg.type === "batch") {
    for (const index of msg.indices) {
      const { format, input } = engine.generate(corpus, formats, seed, index);
      process.send({ type: "result", ...(await one(format, input, index)) });
    }
    process.send({ type: "done" });
  } else if (msg.type === "replay") {
    const input = await engine.readParts(msg.dir);
    process.send({ type: "result", ...(await one(msg.format, input, -1)) });
    process.send({ type: "done" });
  }
});
