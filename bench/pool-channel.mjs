// What a latent-split pool's batch-1 call could cost with a shared-memory channel instead of
// postMessage: the split done by hand, two half-width int8 TopK models (the same work as two
// slices), the calling thread encoding one half while a worker encodes the other, the worker woken
// by postMessage ("post", as pools do past 16 rows) or by Atomics.notify on shared memory ("atomics": the
// worker blocks in Atomics.wait, the calling thread spins on a done flag after its half;
// "atomics-async": it awaits Atomics.waitAsync instead, which leaves its event loop free). Against
// one full-width Sae ("one") and the pool itself ("pool": createSaePool, split latents, mainThread).
// Also one half alone, back to back ("half") and after an untimed 0.1 ms pause before each call
// ("half-paused"), which shows what a worker's idle time costs the call after it on this machine.
// Each setup runs in a process of its own (setups sharing a process evict each other's weights),
// in turn, `--runs` times; median and p10–p90 of per-call times, and one / setup per run.
//   node bench/pool-channel.mjs [--shape 768x24576] [--k 32] [--seconds 4] [--runs 2]
import { execFileSync } from "node:child_process";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Worker, isMainThread, workerData, parentPort } from "node:worker_threads";
import { buildModel, createSaePool, loadSae, serializeModel } from "../dist/node.js";
import { rng } from "./lib/data.mjs";

if (!isMainThread) await serveHalf(workerData);
else await main();

async function main() {
  const { values: a } = parseArgs({ options: {
    shape: { type: "string", default: "768x24576" }, k: { type: "string", default: "32" },
    seconds: { type: "string", default: "4" }, runs: { type: "string", default: "2" },
    setup: { type: "string" }, dir: { type: "string" },
  } });
  const [dIn, dSae] = a.shape.split("x").map(Number);
  if (a.setup) return runSetup(a.setup, a.dir, dIn, Number(a.seconds));
  const dir = mkdtempSync(join(tmpdir(), "sae-edge-channel-"));
  try {
    const model = (width, seed) => {
      const r = rng(seed);
      const W_enc = new Float32Array(dIn * width).map(() => r()), W_dec = new Float32Array(width * dIn).map(() => r());
      return serializeModel(buildModel({ dIn, dSae: width, k: Number(a.k), architecture: "topk", W_enc, W_dec, b_enc: new Float32Array(width), b_dec: new Float32Array(dIn), applyBDecToInput: false }, "int8"));
    };
    writeFileSync(join(dir, "full.safetensors"), model(dSae, 1));
    writeFileSync(join(dir, "a.safetensors"), model(dSae / 2, 2));
    writeFileSync(join(dir, "b.safetensors"), model(dSae / 2, 3));
    console.log(`sae-edge pool channel: ${dIn}×${dSae} int8 TopK k=${a.k}, batch 1, node ${process.version}, ${cpus()[0].model.trim()} (${cpus().length} cores), load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
    console.log("\n| run | setup | median ms | p10–p90 ms | one / setup |\n|---:|---|---:|---|---:|");
    const setups = ["one", "pool", "post", "atomics", "atomics-async", "half", "half-paused"];
    for (let run = 1; run <= Number(a.runs); run++) {
      let one = NaN;
      for (const setup of setups) {
        const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), "--setup", setup, "--dir", dir, "--shape", a.shape, "--seconds", a.seconds], { encoding: "utf8" });
        const t = JSON.parse(out);
        if (setup === "one") one = t.median;
        console.log(`| ${run} | ${setup} | ${t.median.toFixed(3)} | ${t.p10.toFixed(3)}–${t.p90.toFixed(3)} | ${setup.startsWith("half") ? "" : (one / t.median).toFixed(2) + "×"} |`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// One setup, alone in this process: per-call times as JSON.
async function runSetup(setup, dir, dIn, seconds) {
  const r = rng(7), x = new Float32Array(dIn).map(() => 4 * r());
  const load = (name) => loadSae(readFileSync(join(dir, name)));
  let call, stop = () => {}, pause = () => {};
  if (setup === "one") {
    const s = await load("full.safetensors");
    call = () => s.encode(x, 1);
  } else if (setup === "pool") {
    const p = await createSaePool(join(dir, "full.safetensors"), { threads: 2, split: "latents", mainThread: true });
    call = () => p.encode(x, 1);
    stop = () => p.close();
  } else if (setup.startsWith("half")) {
    const s = await load("a.safetensors"), flag = new Int32Array(new SharedArrayBuffer(4));
    call = () => s.encode(x, 1);
    if (setup === "half-paused") pause = () => Atomics.wait(flag, 0, 0, 0.1);
  } else {
    const s = await load("a.safetensors");
    const shared = new SharedArrayBuffer(16 + 4 * dIn), ctrl = new Int32Array(shared, 0, 4), xs = new Float32Array(shared, 16, dIn);
    const w = new Worker(new URL(import.meta.url), { workerData: { path: join(dir, "b.safetensors"), shared, dIn, atomics: setup !== "post" } });
    await new Promise((resolve) => w.once("message", resolve));
    let seq = 0;
    if (setup === "post") {
      call = async () => {
        const answer = new Promise((resolve) => w.once("message", resolve));
        w.postMessage(x.slice());
        s.encode(x, 1);
        await answer;
      };
    } else {
      call = async () => {
        xs.set(x);
        Atomics.store(ctrl, 0, ++seq);
        Atomics.notify(ctrl, 0);
        s.encode(x, 1);
        if (setup === "atomics") while (Atomics.load(ctrl, 1) !== seq);
        else for (let r; (r = Atomics.waitAsync(ctrl, 1, seq - 1)).async; ) await r.value;
      };
    }
    stop = () => w.terminate();
  }
  for (let i = 0; i < 50; i++) await call();
  const times = [];
  for (const t0 = performance.now(); performance.now() - t0 < seconds * 1000; ) {
    pause(); // untimed
    const t = performance.now();
    await call();
    times.push(performance.now() - t);
  }
  await stop();
  times.sort((p, q) => p - q);
  const at = (f) => times[Math.floor(f * (times.length - 1))];
  process.stdout.write(JSON.stringify({ median: at(0.5), p10: at(0.1), p90: at(0.9) }));
  process.exit(0);
}

// The worker's half: answers each call by postMessage, or loops on the shared control words.
async function serveHalf({ path, shared, dIn, atomics }) {
  const s = await loadSae(readFileSync(path));
  if (!atomics) {
    parentPort.on("message", (x) => parentPort.postMessage(s.encode(x, 1).indices[0]));
    parentPort.postMessage("ready");
    return;
  }
  const ctrl = new Int32Array(shared, 0, 4), xs = new Float32Array(shared, 16, dIn);
  parentPort.postMessage("ready");
  for (let seq = 0; ; ) {
    Atomics.wait(ctrl, 0, seq);
    seq = Atomics.load(ctrl, 0);
    s.encode(xs.slice(), 1);
    Atomics.store(ctrl, 1, seq);
    Atomics.notify(ctrl, 1);
  }
}
