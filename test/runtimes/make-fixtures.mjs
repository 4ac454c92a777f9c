// Writes the inputs every runtime gets (into test/runtimes/.cache/):
//   vectors.bin    the fixed test vectors of test/helpers/common.mjs, models built by dist/
//   reference.json their expected int8/f32 hashes from the plain-JS reference of the model format
//   big.safetensors the 768 x 24576 TopK int8 model (test/helpers/make-big-model.mjs), made once
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { pathToFileURL } from "node:url";
import { DIST_INDEX, REPO, gaussian, hashOutputs, materialize, referenceOutputs, rng, vectorCases } from "../helpers/common.mjs";
import { writeVectors } from "./vectors-format.js";

export const CACHE = new URL(".cache/", import.meta.url);

const lib = await import(pathToFileURL(DIST_INDEX).href);
mkdirSync(CACHE, { recursive: true });

const cases = vectorCases().map((c) => materialize(c, lib));
const g = gaussian(rng(768));
const bigX = new Float32Array(768).map(() => g());
writeFileSync(new URL("vectors.bin", CACHE), writeVectors(cases, bigX));

const joined = (quant) =>
  createHash("sha256")
    .update(cases.filter((c) => c.quant === quant).map((c) => hashOutputs(referenceOutputs(c.model, c.x, c.rows)).all).join(","))
    .digest("hex");
writeFileSync(new URL("reference.json", CACHE), JSON.stringify({ int8: joined("int8"), f32: joined("f32") }) + "\n");

const big = new URL("big.safetensors", CACHE);
if (!existsSync(big)) execFileSync(process.execPath, [`${REPO}test/helpers/make-big-model.mjs`, big.pathname], { stdio: ["ignore", "ignore", "inherit"] });
