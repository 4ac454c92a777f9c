// Deno 2 (the npm deno package): the package's "deno" entry, then the Deno example
// (edge-examples/deno/serve.ts) under `deno serve` over real HTTP.
import { it } from "vitest";
import { testDenoServe } from "../deno-serve.mjs";
import { check, expectProbe } from "../expect-probe.mjs";
import { probeDeno } from "../matrix.mjs";

it("Deno 2: the same bits as the reference, a pool, a timing", async () => {
  expectProbe(await probeDeno(), { entry: "deno" });
});

it("edge-examples/deno under deno serve: every route and error, Node's answers, a load run", async () => {
  for (const line of await testDenoServe(check)) console.log(line);
});
