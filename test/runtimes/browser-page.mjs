// The browser example (edge-examples/browser) in headless Chromium: draw a "7"
// with real pointer strokes, then check that a reconstruction, a score with its
// threshold and verdict, and the active features appear, and that the page's
// numbers equal the Node library's for the same 28 x 28 input; then that the page
// fits a 390 px wide phone. Saves screenshots to test/runtimes/out/.
import { mkdirSync, readFileSync } from "node:fs";
import { chromium } from "playwright-core";
import { loadSae } from "sae-edge";
import { REPO } from "../helpers/common.mjs";
import { HERE } from "./paths.mjs";
import { serveRepo } from "./static-server.mjs";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

export async function testBrowserPage(check) {
  const server = await serveRepo();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  const errors = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${server.url}edge-examples/browser/index.html`);
    await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
    const box = await page.locator("#pad").boundingBox();
    const stroke = async (points) => {
      await page.mouse.move(box.x + points[0][0], box.y + points[0][1]);
      await page.mouse.down();
      for (const [x, y] of points.slice(1)) await page.mouse.move(box.x + x, box.y + y, { steps: 8 });
      await page.mouse.up();
    };
    await stroke([[70, 60], [210, 60], [120, 240]]); // a 7
    await stroke([[110, 150], [190, 150]]);
    await page.waitForFunction(() => Number(document.body.dataset.updates ?? 0) > 0);
    await page.waitForTimeout(200);
    const shown = await page.evaluate(() => {
      const px = (id) => Array.from(document.getElementById(id).getContext("2d").getImageData(0, 0, 28, 28).data);
      return {
        score: document.getElementById("score").textContent,
        threshold: document.getElementById("threshold").textContent,
        verdict: document.getElementById("verdict").textContent,
        features: document.querySelectorAll("#features canvas").length,
        status: document.getElementById("status").textContent,
        input: px("input"),
        recon: px("recon"),
      };
    });
    mkdirSync(`${HERE}out`, { recursive: true });
    const shot = `${HERE}out/browser-page.png`;
    await page.screenshot({ path: shot, fullPage: true });

    check("browser page", errors.length === 0, `no page errors${errors.length ? `: ${errors.join("; ")}` : ""}`);
    const score = Number(shown.score);
    check("browser page", Number.isFinite(score) && score > 0 && score < 1, `shows an anomaly score (${shown.score})`);
    check("browser page", shown.features === 32, `shows the ${shown.features} active features with their decoder atoms`);
    const lit = (px) => px.filter((v, i) => i % 4 === 0 && v > 40).length;
    check("browser page", lit(shown.recon) > 30 && lit(shown.input) > 30, `shows the input and a reconstruction (${lit(shown.input)} and ${lit(shown.recon)} lit pixels)`);
    // The same input through the Node library: the page's score to the shown precision.
    const x = Float32Array.from({ length: 784 }, (_, i) => shown.input[i * 4] / 255);
    const sae = await loadSae(`${REPO}models/mnist-topk-1024.safetensors`);
    const nodeScore = sae.score(x, 1).normalized[0];
    sae.dispose();
    check("browser page", Math.abs(nodeScore - score) < 0.01, `score agrees with Node's on the shown input (${nodeScore.toFixed(3)})`);
    const { threshold } = JSON.parse(readFileSync(`${REPO}edge-examples/browser/calibration.json`, "utf8"));
    const verdict = (s) => (s > threshold ? "anomalous" : "normal");
    check("browser page", shown.threshold === threshold.toFixed(3), `shows the calibrated threshold (${shown.threshold})`);
    check("browser page", shown.verdict === verdict(score), `shows the verdict "${shown.verdict}" for score ${shown.score}`);

    // Not a digit: a scribble should score worse than the 7.
    await page.click("#clear");
    const before = await page.evaluate(() => Number(document.body.dataset.updates));
    await stroke([[40, 40], [240, 60], [40, 100], [240, 130], [40, 170], [240, 200], [60, 250], [230, 250]]);
    await page.waitForFunction((n) => Number(document.body.dataset.updates) > n, before);
    await page.waitForTimeout(200);
    const scribble = Number(await page.textContent("#score"));
    const scribbleVerdict = await page.textContent("#verdict");
    await page.screenshot({ path: `${HERE}out/browser-page-scribble.png`, fullPage: true });
    check("browser page", scribble > score, `a scribble scores worse than the 7 (${scribble.toFixed(3)} > ${score.toFixed(3)})`);
    check("browser page", scribbleVerdict === verdict(scribble), `the scribble's verdict is "${scribbleVerdict}"`);

    // A 390 px wide phone: nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await page.screenshot({ path: `${HERE}out/browser-page-phone.png`, fullPage: true });
    check("browser page", overflow <= 0, `fits a 390 px wide screen (${overflow > 0 ? `${overflow} px too wide` : "no horizontal scroll"})`);
    return [
      `Browser page: ${shown.status}; drew a 7: score ${shown.score} (${shown.verdict}, threshold ${shown.threshold}), ${shown.features} features, a scribble: ${scribble.toFixed(3)} (${scribbleVerdict}); screenshots in test/runtimes/out/`,
    ];
  } finally {
    await browser.close();
    await server.close();
  }
}
