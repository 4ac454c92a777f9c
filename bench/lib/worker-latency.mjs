// A worker thread's round trip with no work, four ways: postMessage (what SaePool's workers use
// for row splits and large batches), Atomics.wait/notify on a SharedArrayBuffer (the worker asleep
// in a futex), Atomics.waitAsync/notify (how int8 TopK latent splits' workers sleep between calls
// of up to 16 rows, their event loop free), and the worker spinning on the buffer (no sleep; they
// do for a while after an answer when calls come back to back). The worker idles 0.5 ms before each
// call, as a pool's worker does while the calling thread finishes its share: asleep by then. At
// batch 1 that round trip is the part of a pool call's latency a second core cannot take away.
import { Worker } from "node:worker_threads";

const WORKER = `
const { parentPort, workerData: { sab } } = require("node:worker_threads");
const f = new Int32Array(sab);
parentPort.on("message", async (m) => {
  if (m !== "atomics") return parentPort.postMessage(m);
  // Hand over to the shared buffer: f[0] is the caller's call number (-1: back to messages),
  // f[1] the last one answered, f[2] how the worker waits: 0 Atomics.wait, 1 spinning, 2 waitAsync.
  for (let seen = 0; ; ) {
    if (f[2] === 1) while (Atomics.load(f, 0) === seen);
    else if (f[2] === 2) for (let r; (r = Atomics.waitAsync(f, 0, seen)).async; ) await r.value;
    else Atomics.wait(f, 0, seen);
    seen = Atomics.load(f, 0);
    if (seen < 0) break;
    Atomics.store(f, 1, seen);
    Atomics.notify(f, 1);
  }
  parentPort.postMessage("messages");
});`;

const pause = new Int32Array(new SharedArrayBuffer(4));
const idle = () => Atomics.wait(pause, 0, 0, 0.5);
const median = (t) => t.sort((a, b) => a - b)[t.length >> 1];
const p = (t, q) => t[Math.floor((t.length - 1) * q)];
const cell = (t) => `${(1000 * median(t)).toFixed(1)} (${(1000 * p(t, 0.1)).toFixed(1)}–${(1000 * p(t, 0.9)).toFixed(1)})`;

/** Median (p10–p90) microseconds per round trip, as strings: { message, atomicsWait, waitAsync, spin }. */
export async function workerRoundTrips(calls = 500) {
  const sab = new SharedArrayBuffer(16), f = new Int32Array(sab);
  const w = new Worker(WORKER, { eval: true, workerData: { sab } });
  const next = () => new Promise((done) => w.once("message", done));
  const message = [];
  for (let i = 0; i < calls; i++) {
    idle();
    const t = performance.now();
    const answer = next();
    w.postMessage(i);
    await answer;
    message.push(performance.now() - t);
  }
  const shared = async (mode) => {
    Atomics.store(f, 0, 0);
    Atomics.store(f, 1, 0);
    Atomics.store(f, 2, mode);
    w.postMessage("atomics");
    await new Promise((done) => setTimeout(done, 20)); // the worker is in its loop
    const t = [];
    for (let i = 1; i <= calls; i++) {
      idle();
      const t0 = performance.now();
      Atomics.store(f, 0, i);
      Atomics.notify(f, 0);
      while (Atomics.load(f, 1) !== i);
      t.push(performance.now() - t0);
    }
    const back = next();
    Atomics.store(f, 0, -1);
    Atomics.notify(f, 0);
    await back;
    return t;
  };
  const atomicsWait = await shared(0);
  const spin = await shared(1);
  const waitAsync = await shared(2);
  await w.terminate();
  return { message: cell(message), atomicsWait: cell(atomicsWait), waitAsync: cell(waitAsync), spin: cell(spin) };
}
