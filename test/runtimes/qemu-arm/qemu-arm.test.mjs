// The arm Node builds under qemu-user on Raspberry Pi CPU models: correctness only.
// arm64 runs use the default build alone (--quick): each wasm instance reserves V8's
// guard regions, which qemu-user maps page by page, so 4 x 92 instances would take minutes.
import { describe, it } from "vitest";
import { expectProbe } from "../expect-probe.mjs";
import { probeQemu } from "../matrix.mjs";

const RUNS = [
  ["arm64 Node 22, cortex-a53 (Pi 3)", "arm64", "cortex-a53", ["--quick"]],
  ["arm64 Node 22, cortex-a72 (Pi 4)", "arm64", "cortex-a72", ["--quick"]],
  ["arm64 Node 22, cortex-a76 (Pi 5)", "arm64", "cortex-a76", ["--quick"]],
  ["armv7 Node 20, cortex-a7 (Pi 2)", "armv7", "cortex-a7", ["--timing=3x2"]],
];

describe.concurrent("arm Node under qemu-user", () => {
  for (const [name, arch, cpu, args] of RUNS) {
    it(`${name}: the same bits as the reference`, async ({ expect }) => {
      expectProbe(await probeQemu(arch, cpu, args), { entry: "node", emulated: true, expect });
    });
  }
});
