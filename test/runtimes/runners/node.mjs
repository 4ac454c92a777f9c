// Node runner (x64 Node 20/22 and the arm builds under qemu): the package's Node
// entry, test vectors from .cache/, one JSON line on stdout.
// Usage: node runners/node.mjs [--no-big] [--quick] [--timing=ROUNDSxPER]
//   --quick (for arm64 under qemu, where each wasm instance takes long to create:
//   V8 reserves its guard regions): only the default kernel, 3 x 2 timed encodes.
import { readFile } from "node:fs/promises";
import * as lib from "sae-edge"; // resolved through package.json "exports" (node condition)
import { runProbe } from "../probe.js";

const cache = new URL("../.cache/", import.meta.url);
const noBig = process.argv.includes("--no-big");
const quick = process.argv.includes("--quick");
const timing = process.argv.find((a) => a.startsWith("--timing="))?.slice(9).split("x").map(Number);
const result = await runProbe({
  lib,
  vectors: await readFile(new URL("vectors.bin", cache)),
  big: noBig ? undefined : new URL("big.safetensors", cache).pathname,
  ...(quick ? { kernels: ["default"], bigRounds: 3, bigPerRound: 2 } : {}),
  pool: process.arch === "x64", // under qemu every worker re-creates wasm instances slowly
  ...(timing ? { bigRounds: timing[0], bigPerRound: timing[1] } : {}),
});
process.stdout.write(JSON.stringify({ version: `node ${process.version} ${process.arch}`, ...result }) + "\n");
