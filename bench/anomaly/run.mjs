// `npm run bench:anomaly`: one table set per data set, written to bench/results/anomaly.md (and
// .json). A data set is a module exporting an async function that returns tables
// ({ title, note, columns, rows }); add one by adding a line to DATASETS.
//   npm run bench:anomaly [-- --only mnist,sensors,camera] [--epochs 20] [--fpr 0.01]
import { rename, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { markdown } from "./table.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const DATASETS = [
  { name: "mnist", file: "mnist.mjs", run: (m, o) => m.mnistTables({ epochs: o.epochs, log: o.log }) },
  { name: "sensors", file: "sensors.mjs", run: (m, o) => m.sensorTables({ fpr: o.fpr }) },
  { name: "camera", file: "camera.mjs", run: (m) => m.cameraTables() },
];

const bad = (why) => {
  process.stderr.write(`bench:anomaly: ${why}\n`);
  process.exit(2);
};
let values;
try {
  ({ values } = parseArgs({ options: { only: { type: "string" }, epochs: { type: "string", default: "20" }, fpr: { type: "string", default: "0.01" } } }));
} catch (e) {
  bad(e.message);
}
const epochs = Number(values.epochs), fpr = Number(values.fpr);
if (!(Number.isInteger(epochs) && epochs > 0)) bad(`--epochs must be a positive integer, got ${values.epochs}`);
if (!(fpr > 0 && fpr < 1)) bad(`--fpr must be in (0, 1), got ${values.fpr}`);
const only = values.only?.split(",");
const unknown = only?.filter((n) => !DATASETS.some((d) => d.name === n));
if (unknown?.length) bad(`unknown data set ${unknown.join(", ")} (have ${DATASETS.map((d) => d.name).join(", ")})`);

const sections = [], json = {};
for (const d of DATASETS.filter((d) => !only || only.includes(d.name))) {
  const path = join(here, d.file);
  const t0 = performance.now();
  const tables = await d.run(await import(path), { epochs, fpr, log: (l) => process.stderr.write(`${d.name}: ${l}\n`) });
  process.stderr.write(`bench:anomaly: ${d.name} in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  json[d.name] = tables;
  sections.push(`## ${d.name}\n\n${tables.map(markdown).join("\n")}`);
}
const machine = `${cpus()[0]?.model ?? "an unknown CPU"} (${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GB)`;
const header = `# Anomaly detection bench\n\n\`npm run bench:anomaly\` on ${new Date().toISOString().slice(0, 10)}, ${machine}, Node ${process.version}, one thread.\n\n`;
const out = join(here, "..", "results", "anomaly");
// Atomic: a temp file in the same folder, renamed over the old one.
for (const [ext, text] of [["md", header + sections.join("\n")], ["json", JSON.stringify(json, null, 1) + "\n"]]) {
  await writeFile(`${out}.${ext}.tmp`, text);
  await rename(`${out}.${ext}.tmp`, `${out}.${ext}`);
}
console.log(header + sections.join("\n"));
