// The gateway's streams on disk, in --model-dir, so that a gateway killed at any moment
// goes on where it stopped: a snapshot of every stream (streams.json: its window, learning
// samples, sequence numbers; written atomically) and a journal of the samples accepted since
// (journal-<n>.jsonl, one line each, written before the broker gets the message's PUBACK),
// and a line for each score or alert the broker acknowledged, so a restart does not publish
// again every window it scores anew from the journal.
// A restart loads the snapshot and replays the journal; what the broker sends again is then
// a repeat. Writes reach the OS at once (enough for a killed process) and the disk at
// every sync (enough for a power cut, up to the last sync). A snapshot costs as much as the
// state, so one is written only when the journal has grown as large as the last snapshot:
// writing stays proportional to what arrives, and a restart replays at most that much.
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { removeAtomicLeftovers, syncFolderSync, writeFileAtomicSync } from "sae-edge";
import { packF32, unpackF32 } from "./f32.mjs";

const SNAPSHOT = "streams.json";
const JOURNAL = /^journal-(\d+)\.jsonl$/;

export class GatewayStore {
  constructor(dir) {
    this.dir = dir;
    this.fd = -1;
    this.generation = 0;
    this.journalBytes = 0;
    this.snapshotBytes = 0;
  }

  /**
   * → { streams: { key: state }, outbox: [[topic, text, tag, acked]], entries: [[key, seq, local, values]],
   * acked: Set of "topic seq" acknowledged since the snapshot }, and opens a new journal.
   */
  load() {
    removeAtomicLeftovers(this.dir);
    const path = join(this.dir, SNAPSHOT);
    const snapshot = existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) : { journal: 0, streams: {}, outbox: [] };
    const journals = readdirSync(this.dir).map((f) => JOURNAL.exec(f)).filter(Boolean).map((m) => Number(m[1])).sort((a, b) => a - b);
    const entries = [], acked = new Set();
    for (const g of journals.filter((g) => g >= snapshot.journal)) {
      const lines = readFileSync(join(this.dir, `journal-${g}.jsonl`), "utf8").split("\n");
      // A kill in the middle of an append leaves a torn last line: that sample was never acknowledged.
      for (const line of lines) {
        try {
          if (line) {
            const [key, seq, local, values] = JSON.parse(line);
            if (values === undefined) acked.add(`${key} ${seq}`);
            else entries.push([key, seq, local, unpackF32(values)]);
          }
        } catch {}
      }
    }
    this.generation = Math.max(snapshot.journal, ...journals) + 1;
    this.#open();
    return { streams: snapshot.streams, outbox: snapshot.outbox, entries, acked };
  }

  #open() {
    this.fd = openSync(join(this.dir, `journal-${this.generation}.jsonl`), "a");
  }

  /** Records one accepted sample: `local` when the gateway numbered it. */
  append(key, seq, local, values) {
    this.journalBytes += writeSync(this.fd, `${JSON.stringify([key, seq, local ? 1 : 0, packF32(values)])}\n`);
  }

  /** Records that the broker acknowledged the message of `seq` on `topic`. */
  appendAck(topic, seq) {
    this.journalBytes += writeSync(this.fd, `${JSON.stringify([topic, seq])}\n`);
  }

  /** Flushes the journal to disk; → whether it has grown enough to be worth a snapshot. */
  sync() {
    fsyncSync(this.fd);
    return this.journalBytes >= Math.max(1 << 20, this.snapshotBytes);
  }

  /**
   * Starts a new journal and writes the snapshot of this moment: `streams` (an iterable of
   * [key, state]) and `outbox` (Outbox.entries()); the journals before it are then deleted.
   */
  checkpoint(streams, outbox) {
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.generation++;
    this.#open();
    const generation = this.generation;
    const store = this;
    store.snapshotBytes = 0;
    store.journalBytes = 0;
    function* chunks() {
      yield `{"journal":${generation},"outbox":${JSON.stringify(outbox)},"streams":{`;
      let first = true;
      for (const [key, state] of streams) {
        const text = `${first ? "" : ","}${JSON.stringify(key)}:${JSON.stringify(state)}`;
        store.snapshotBytes += text.length;
        yield text;
        first = false;
      }
      yield "}}\n";
    }
    writeFileAtomicSync(join(this.dir, SNAPSHOT), chunks());
    for (const f of readdirSync(this.dir)) {
      const m = JOURNAL.exec(f);
      if (m && Number(m[1]) < generation) rmSync(join(this.dir, f), { force: true });
    }
    syncFolderSync(this.dir);
  }

  close() {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
