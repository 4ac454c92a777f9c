// Chromium runner: Debian's headless chromium driven by playwright-core opens
// browser/probe.html from a local static server; one JSON line on stdout.
import { chromium } from "playwright-core";
import { serveRepo } from "../static-server.mjs";

export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

const server = await serveRepo();
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
try {
  const page = await browser.newPage();
  page.on("pageerror", (e) => process.stderr.write(`page error: ${e.message}\n`));
  await page.goto(`${server.url}test/runtimes/browser/probe.html`);
  await page.waitForFunction(() => window.result !== undefined, null, { timeout: 120_000 });
  const result = await page.evaluate(() => window.result);
  process.stdout.write(JSON.stringify({ version: `chromium ${browser.version()}`, ...result }) + "\n");
} finally {
  await browser.close();
  await server.close();
}
