// The runtime matrix's Node 20 leg (the unit tests' own Node): the package as Node
// resolves it, run in a child process like every other runtime.
import { beforeAll, it } from "vitest";
import { expectProbe } from "../expect-probe.mjs";
import { probeNode } from "../matrix.mjs";
import setup from "../setup.mjs";

beforeAll(setup, 120_000); // here, not as node20's globalSetup: the unit tests alone need no fixtures

it("Node 20 (x64): the same bits as the reference, a pool, a timing", async () => {
  expectProbe(await probeNode(process.execPath), { entry: "node" });
}, 300_000);
