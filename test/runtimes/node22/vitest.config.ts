import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "node22",
    include: ["*.test.mjs"],
    globalSetup: ["../setup.mjs"],
    testTimeout: 300_000,
    sequence: { groupOrder: 1 }, // after the unit tests and one runtime at a time: the timings are real
  },
});
