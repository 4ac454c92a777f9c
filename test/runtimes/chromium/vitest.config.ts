import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "chromium",
    include: ["*.test.mjs"],
    globalSetup: ["../setup.mjs"],
    testTimeout: 300_000,
    sequence: { groupOrder: 4 }, // one runtime at a time: the timings are real
  },
});
