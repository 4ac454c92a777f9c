// Writes the inputs every runtime gets (into test/runtimes/.cache/), again only when
// the code that makes them changed (stamp: a hash of that code):
//   vectors.bin     the fixed test vectors of test/helpers/common.mjs, models built by dist/
//   big.safetensors the 768 x 24576 TopK int8 model of test/helpers/make-big-model.mjs
//   reference.json  the expected hashes from the plain-JS reference of the model format:
//                   int8 and f32 over the vectors, big over the big model's codes for bigX
// Every file is written to a temp name and renamed, so a reader never sees half a file.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { pathToFileURL } from "node:url";
import { DIST_INDEX, REPO, gaussian, hashOutputs, materialize, referenceOutputs, rng, sha256, vectorCases } from "../helpers/common.mjs";
import { bigModel } from "../helpers/make-big-model.mjs";
import { CACHE } from "./paths.mjs";
import { writeVectors } from "./vectors-format.js";

const OUTPUTS = ["vectors.bin", "big.safetensors", "reference.json"];
const SOURCES = ["dist/index.js", "test/helpers/common.mjs", "test/helpers/make-big-model.mjs", "test/runtimes/make-fixtures.mjs", "test/runtimes/vectors-format.js"];

const write = (name, bytes) => {
  writeFileSync(`${CACHE}${name}.tmp-${process.pid}`, bytes);
  renameSync(`${CACHE}${name}.tmp-${process.pid}`, `${CACHE}${name}`);
};

const stamp = createHash("sha256");
for (const f of SOURCES) stamp.update(readFileSync(`${REPO}${f}`));
const digest = stamp.digest("hex");
const stampFile = `${CACHE}fixtures.stamp`;
const fresh = existsSync(stampFile) && readFileSync(stampFile, "utf8") === digest && OUTPUTS.every((f) => existsSync(`${CACHE}${f}`));

if (!fresh) {
  const lib = await import(pathToFileURL(DIST_INDEX).href);
  mkdirSync(CACHE, { recursive: true });

  const cases = vectorCases().map((c) => materialize(c, lib));
  const g = gaussian(rng(768));
  const bigX = new Float32Array(768).map(() => g());
  write("vectors.bin", writeVectors(cases, bigX));

  const joined = (quant) =>
    createHash("sha256")
      .update(cases.filter((c) => c.quant === quant).map((c) => hashOutputs(referenceOutputs(c.model, c.x, c.rows)).all).join(","))
      .digest("hex");
  const big = await bigModel(lib);
  write("big.safetensors", lib.serializeModel(big));
  const codes = referenceOutputs(big, bigX, 1);
  const reference = { int8: joined("int8"), f32: joined("f32"), big: sha256(codes.rowOffsets, codes.indices, codes.values) };
  write("reference.json", JSON.stringify(reference) + "\n");
  write("fixtures.stamp", digest);
}
