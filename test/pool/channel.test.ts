// The shared-memory channel's two ends on one thread (pool/channel.ts): the server answers on this
// thread's event loop, so a client that spins first cannot hear the answer while it spins and must
// start waiting after; a client that does not spin waits from the start. Both get the server's
// candidates and errors. The cross-thread path (the answer seen during the spin) is in
// latent-pool.test.ts, with real workers.
import { describe, expect, it } from "vitest";
import { ChannelClient, createChannel, serveChannel } from "../../src/pool/channel.js";
import type { Candidates } from "../../src/pool/latent-worker.js";

const dIn = 3, c = 2;

// Candidates that echo the rows: index = row, value = the row's first column, h = its sum.
function echo(x: Float32Array, rows: number): Candidates {
  if (Number.isNaN(x[0])) throw Object.assign(new Error("row 0 is NaN"), { row: 0 });
  const n = rows * c;
  const cand: Candidates = { rows, c, count: new Int32Array(rows).fill(1), index: new Uint32Array(n), value: new Float32Array(n), h: new Float32Array(n), overflowRow: -1 };
  for (let r = 0; r < rows; r++) {
    cand.index[r * c] = r;
    cand.value[r * c] = x[r * dIn]!;
    cand.h[r * c] = x[r * dIn]! + x[r * dIn + 1]! + x[r * dIn + 2]!;
  }
  return cand;
}

describe("shared-memory channel, both ends on one thread", () => {
  const init = createChannel({ dIn, c, residual: false, normalized: false, spin: true });
  serveChannel(init, echo, (e) => ({ code: "INPUT_NONFINITE", message: (e as Error).message, row: (e as { row?: number }).row }));
  const client = new ChannelClient(init);
  const never = new Promise<never>(() => {});

  for (const spinning of [false, true]) {
    it(spinning ? "a client that spins first, past the answer it cannot see yet, still gets it" : "a client that waits from the start gets the answer", async () => {
      for (let call = 1; call <= 3; call++) {
        const x = Float32Array.of(call, 2, 3, 10 * call, 20, 30);
        const answer = client.candidates(x, 2, never, spinning);
        expect(client.fits(1), "one call at a time").toBe(false);
        if (spinning) client.spin(performance.now() + 2);
        const got = await answer;
        expect([...got.count]).toEqual([1, 1]);
        expect([...got.index]).toEqual([0, 0, 1, 0]);
        expect([...got.value]).toEqual([call, 0, 10 * call, 0]);
        expect([...got.h]).toEqual([call + 5, 0, 10 * call + 50, 0]);
        expect(client.fits(1)).toBe(true);
      }
      const bad = client.candidates(Float32Array.of(NaN, 0, 0), 1, never, spinning);
      if (spinning) client.spin(performance.now() + 2);
      await expect(bad).rejects.toMatchObject({ code: "INPUT_NONFINITE", row: 0, message: "row 0 is NaN" });
    });
  }
});
