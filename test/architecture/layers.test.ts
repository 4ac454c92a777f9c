import { describe, expect, it } from "vitest";
// @ts-expect-error plain .mjs script without types
import { checkLayers } from "../../scripts/check-layers.mjs";

describe("src/ layering (docs/architecture.md)", () => {
  it("has every import pointing to a lower layer, the runtime reached through its index, node: only in adapters/node, cli and demo", () => {
    expect(checkLayers()).toEqual([]);
  });
});
