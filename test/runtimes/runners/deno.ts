// Deno runner: the package's Deno entry (kernel builds fetched from file: URLs,
// the big model read through Deno.open), one JSON line on stdout.
// deno run --allow-read runners/deno.ts
import * as lib from "sae-edge"; // resolved through package.json "exports" (deno condition)
import { runProbe } from "../probe.js";

const cache = new URL("../.cache/", import.meta.url);
const result = await runProbe({
  lib,
  vectors: await Deno.readFile(new URL("vectors.bin", cache)),
  big: new URL("big.safetensors", cache),
  pool: true,
});
console.log(JSON.stringify({ version: `deno ${Deno.version.deno} (V8 ${Deno.version.v8})`, ...result }));
