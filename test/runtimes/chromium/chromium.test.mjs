// Debian's headless Chromium (playwright-core): the package's browser entry in
// browser/probe.html, then the browser example drawn on with real pointer strokes.
import { it } from "vitest";
import { testBrowserPage } from "../browser-page.mjs";
import { check, expectProbe } from "../expect-probe.mjs";
import { probeChromium } from "../matrix.mjs";

it("Chromium headless: the same bits as the reference, a pool, a timing", async () => {
  expectProbe(await probeChromium(), { entry: "web" });
});

it("edge-examples/browser: a 7 and a scribble drawn, scores that agree with Node's", async () => {
  for (const line of await testBrowserPage(check)) console.log(line);
});
