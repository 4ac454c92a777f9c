import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "qemu-arm",
    include: ["*.test.mjs"],
    globalSetup: ["../setup.mjs"],
    testTimeout: 300_000,
    sequence: { groupOrder: 5 }, // last: qemu takes long and times nothing
    maxConcurrency: 2, // two qemu runs at once
  },
});
