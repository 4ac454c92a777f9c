// Node 22 (x64, from test/engines): the first Node with relaxed SIMD on by default.
import { it } from "vitest";
import { NODE22 } from "../../helpers/common.mjs";
import { expectProbe } from "../expect-probe.mjs";
import { probeNode } from "../matrix.mjs";

it("Node 22 (x64): the same bits as the reference, a pool, a timing", async () => {
  expectProbe(await probeNode(NODE22), { entry: "node" });
});
