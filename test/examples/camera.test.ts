// The Raspberry Pi camera example fed by Debian's ffmpeg: a steady synthetic scene, then
// a black box (the defect) drawn from frame 40 on. Frames arrive through a pipe from
// ffmpeg, from a file with stride padding and a partial last frame, and from a camera
// command that dies mid-frame and is restarted; then the same script under qemu-user
// arm64 Node with a Raspberry Pi 4 CPU (cortex-a72).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonLines, runAsync } from "../helpers/child.js";
import { REPO } from "../helpers/common.mjs";
import { expectHelp, expectOneLineError } from "../helpers/example-script.js";
import { findBinary } from "../helpers/find-binary.js";

const WATCH = join(REPO, "edge-examples/raspberry-pi-camera/watch.mjs");
const W = 640, H = 480, FRAME = (W * H * 3) / 2;
const DEFECT_FROM = 40, FRAMES = 60;
// Colour bars with fresh noise every frame; the box is the defect.
const SCENE = "smptebars=size=640x480:rate=10,noise=alls=8:allf=t";
const DEFECT = `drawbox=x=300:y=200:w=48:h=48:color=black:t=fill:enable='gte(n,${DEFECT_FROM})'`;
const ARM64 = {
  node: join(REPO, "test/runtimes/.arm/arm64/bin/node"),
  qemu: "/usr/bin/qemu-aarch64-static",
  sysroot: "/usr/aarch64-linux-gnu",
};

const tmp = mkdtempSync(join(tmpdir(), "sae-edge-camera-"));
const at = (name: string) => join(tmp, name);
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  rmSync(tmp, { recursive: true, force: true });
});

const ffmpegPath = () => findBinary("ffmpeg", "ffmpeg");

const ffmpegArgs = (frames: number, filters: string[], out: string) => [
  "-v", "error", "-y", "-f", "lavfi", "-i", SCENE, ...(filters.length ? ["-vf", filters.join(",")] : []),
  "-frames:v", String(frames), "-pix_fmt", "yuv420p", "-f", "rawvideo", out,
];

function ffmpegToFile(frames: number, filters: string[], name: string): string {
  const r = spawnSync(ffmpegPath(), ffmpegArgs(frames, filters, at(name)), { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
  return at(name);
}

type Event = Record<string, any>;
interface Run { events: Event[]; code: number | null; stderr: string }

/** Runs watch.mjs (under `prefix`, e.g. qemu) with stdin from `stdin` if given; resolves when it exits. */
function watch(args: string[], opts: { stdin?: NodeJS.ReadableStream; prefix?: string[] } = {}): Promise<Run> {
  const [exe, ...pre] = opts.prefix ?? [process.execPath];
  const child = spawn(exe, [...pre, WATCH, ...args], { cwd: REPO, stdio: [opts.stdin ? "pipe" : "ignore", "pipe", "pipe"] });
  children.push(child);
  if (opts.stdin) opts.stdin.pipe(child.stdin!);
  let out = "", stderr = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (stderr += d));
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, stderr, events: out.split("\n").filter(Boolean).map((l) => JSON.parse(l)) })));
}

/** A safetensors file with its provenance metadata rewritten by `edit`. */
function withProvenance(bytes: Buffer, edit: (provenance: any) => void): Buffer {
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString("utf8"));
  const provenance = JSON.parse(header.__metadata__.provenance);
  edit(provenance);
  header.__metadata__.provenance = JSON.stringify(provenance);
  let text = JSON.stringify(header);
  text += " ".repeat((8 - (text.length % 8)) % 8); // the data stays 8-byte aligned
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(text)));
  return Buffer.concat([length, Buffer.from(text), bytes.subarray(8 + n)]);
}

const alertFrames = (r: Run) => r.events.filter((e) => e.event === "alert").map((e) => e.frame);
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
const ok = (r: Run) => expect(r.code, r.stderr).toBe(0);

let defectVideo = "";
beforeAll(() => {
  defectVideo = ffmpegToFile(FRAMES, [DEFECT], "defect.yuv");
});

describe("Raspberry Pi camera example", () => {
  it("learns the scene from an ffmpeg pipe and alerts on every defect frame, none before", async () => {
    const ffmpeg = spawn(ffmpegPath(), ffmpegArgs(FRAMES, [DEFECT], "-"), { stdio: ["ignore", "pipe", "inherit"] });
    children.push(ffmpeg);
    const r = await watch(["--width", String(W), "--height", String(H), "--learn", "20", "--out-dir", at("pipe-alerts")], { stdin: ffmpeg.stdout! });
    ok(r);
    expect(r.events.find((e) => e.event === "learned")).toMatchObject({ frames: 20 });
    expect(alertFrames(r)).toEqual(range(DEFECT_FROM, FRAMES));
    const quiet = r.events.filter((e) => e.event === "frame");
    expect(quiet.map((e) => e.frame)).toEqual(range(20, DEFECT_FROM));
    const first = r.events.find((e) => e.event === "alert")!;
    // The worst patch lies on the box (x 300–348, y 200–248).
    expect(first.patch.x + first.patch.size).toBeGreaterThan(300);
    expect(first.patch.x).toBeLessThan(348);
    expect(first.patch.y + first.patch.size).toBeGreaterThan(200);
    expect(first.patch.y).toBeLessThan(248);
    // The heatmap: the box tinted red, the far corner of the scene untouched grey.
    const png = PNG.sync.read(readFileSync(first.png));
    expect([png.width, png.height]).toEqual([W, H]);
    const px = (x: number, y: number) => Array.from(png.data.subarray((y * W + x) * 4, (y * W + x) * 4 + 3));
    const [r0, g0, b0] = px(310, 210);
    expect(r0 - g0).toBeGreaterThan(100);
    expect(b0).toBe(g0);
    const [r1, g1, b1] = px(20, 20);
    expect(r1).toBe(g1);
    expect(g1).toBe(b1);
    const end = r.events.at(-1)!;
    expect(end).toMatchObject({ event: "end", frames: FRAMES, scored: FRAMES - 20, alerts: FRAMES - DEFECT_FROM });
    console.log(`[camera] ffmpeg pipe 640×480: ${end.fps.toFixed(0)} frames/s after learning, ${r.events.filter((e) => e.png).length} heatmap PNGs for ${end.alerts} alert frames (${end.scoreFps.toFixed(0)} frames/s patches + SAE alone)`);
  });

  it("reads a file with row padding (--stride) and reports a partial last frame; hints the stride when it is wrong", async () => {
    const padded = ffmpegToFile(30, ["pad=672:480"], "padded.yuv"); // rows of 672 bytes, picture in the first 640
    const hint = await watch(["--input", padded, "--learn", "10", "--out-dir", at("hint")]);
    ok(hint);
    expect(hint.events[0]).toMatchObject({ event: "size-warning", hint: expect.stringMatching(/--stride 672/) }); // before any frame
    expect(hint.events.find((e) => e.event === "partial-frame")?.hint).toMatch(/--stride 672/);

    appendFileSync(padded, Buffer.alloc(1000, 16));
    const r = await watch(["--input", padded, "--width", "640", "--stride", "672", "--learn", "10", "--out-dir", at("stride")]);
    ok(r);
    expect(r.events[0]).toMatchObject({ event: "size-warning", hint: `${30 * 672 * 720 + 1000} bytes are 30 frames of ${672 * 720} bytes and 1000 bytes over` });
    expect(r.events[1]).toMatchObject({ event: "start", stride: 672, frameBytes: 672 * 480 * 1.5 });
    expect(r.events.find((e) => e.event === "partial-frame")).toMatchObject({ bytes: 1000, after: 29 });
    expect(r.events.at(-1)).toMatchObject({ event: "end", frames: 30, scored: 20, alerts: 0 });
  });

  it("keeps going when the camera dies mid-frame and is restarted, frames counted on", async () => {
    const flag = at("camera-ran-once");
    // First run: 2.5 frames, then the camera "crashes"; the restart streams the whole video.
    const camera = `if [ -e ${flag} ]; then exec cat ${defectVideo}; else touch ${flag}; head -c ${2 * FRAME + FRAME / 2} ${defectVideo}; exit 3; fi`;
    const r = await watch(["--exec", camera, "--restarts", "1", "--learn", "20", "--out-dir", at("restart")]);
    ok(r);
    expect(r.events.find((e) => e.event === "partial-frame")).toMatchObject({ bytes: FRAME / 2, after: 1 });
    expect(r.events.find((e) => e.event === "camera-exit")).toMatchObject({ code: 3 });
    expect(alertFrames(r)).toEqual(range(2 + DEFECT_FROM, 2 + FRAMES));
    expect(r.events.at(-1)).toMatchObject({ event: "end", frames: 2 + FRAMES });
  });

  it("runs under qemu-user arm64 Node on a cortex-a72 (Pi 4) with the same events as on x64", async () => {
    for (const [what, path] of Object.entries(ARM64)) {
      if (!existsSync(path)) throw new Error(`arm64 ${what} missing at ${path}: \`node scripts/ensure-test-deps.mjs\` installs it`);
    }
    // 4 steady frames and 10 with the box; learning on the first 8, on the device itself.
    const clip = at("clip.yuv");
    const all = readFileSync(defectVideo);
    appendFileSync(clip, all.subarray((DEFECT_FROM - 12) * FRAME, (DEFECT_FROM + 2) * FRAME));
    const args = ["--input", clip, "--learn", "8", "--max-png", "0", "--out-dir", at("qemu")];
    const [x64, arm] = await Promise.all([
      watch(args),
      watch(args, { prefix: [ARM64.qemu, "-L", ARM64.sysroot, "-cpu", "cortex-a72", ARM64.node] }),
    ]);
    ok(x64);
    ok(arm);
    const timeless = (r: Run) => r.events.map(({ seconds, fps, scoreFps, ...e }) => e);
    expect(timeless(arm)).toEqual(timeless(x64)); // training and int8 scoring are bit-identical across builds
    expect(alertFrames(arm)).toEqual(range(12, 14));
  });
});

describe("Raspberry Pi camera example: its model file", () => {
  it("removes what a killed save left, saves the model whole, and loads it", async () => {
    const clip = ffmpegToFile(6, ["scale=320:240"], "save.yuv");
    const model = at("saved.safetensors");
    writeFileSync(at(".saved.safetensors.99999999.tmp"), "half a model"); // no process has that pid
    const geometry = ["--width", "320", "--height", "240", "--out-dir", at("save-alerts")];
    const learned = await watch(["--input", clip, ...geometry, "--learn", "4", "--save", model]);
    ok(learned);
    expect(learned.events.find((e) => e.event === "learned")).toMatchObject({ saved: model });
    expect(readdirSync(tmp).filter((f) => f.startsWith(".saved.safetensors."))).toEqual([]);
    const loaded = await watch(["--input", clip, ...geometry, "--model", model]);
    ok(loaded);
    expect(loaded.events.at(-1)).toMatchObject({ event: "end", frames: 6, scored: 6 });

    // Damaged statistics are refused at start with one line, not turned into NaN scores.
    const damaged: [string, (camera: any) => void, RegExp][] = [
      ["short", (c) => (c.scorer.residual = Buffer.alloc(8).toString("base64")), /its camera statistics are damaged \(its per-position statistics are not 70 finite numbers\)/],
      ["codes", (c) => (c.scorer.codes.frames = 3), /its camera statistics are damaged \(its normal codes do not match the geometry\)/],
      ["threshold", (c) => (c.threshold = -1), /its camera threshold is damaged/],
    ];
    for (const [name, damage, message] of damaged) {
      const path = at(`damaged-${name}.safetensors`);
      writeFileSync(path, withProvenance(readFileSync(model), (p) => damage(p.camera)));
      expectOneLineError(await runAsync(process.execPath, [WATCH, "--input", clip, ...geometry, "--model", path]), message, name);
    }
  });
});

describe("Raspberry Pi camera example: bad input", () => {
  const run = (args: string[]) => runAsync(process.execPath, [WATCH, "--out-dir", at("bad"), ...args]);

  it("prints its usage for --help and exits 0", async () => {
    expectHelp(await run(["--help"]), ["width", "height", "stride", "input", "exec", "learn", "model", "save", "kernel"]);
  });

  it("ends every bad option, value or file with one line on stderr and exit code 2", async () => {
    writeFileSync(at("not-a-model.safetensors"), "{}");
    const cases: [string[], RegExp][] = [
      [["--bogus"], /unknown option --bogus/],
      [["extra"], /Unexpected argument 'extra'/],
      [["--width", "abc"], /--width must be an integer ≥ 1, got abc/],
      [["--learn", "2"], /--learn must be an integer ≥ 3, got 2/],
      [["--margin", "x"], /--margin must be a number > 0, got x/],
      [["--kernel", "fast"], /--kernel must be one of scalar, simd128, relaxed, got fast/],
      [["--stride", "600"], /--stride 600 is less than --width 640/],
      [["--patch", "400"], /a 400-pixel patch does not fit a 320×240 image/],
      [["--input", at("missing.yuv")], /missing\.yuv: no such file or directory/],
      [["--input", tmp], /is a folder, not a file/],
      [["--model", at("missing.safetensors")], /missing\.safetensors: no such file or directory/],
      [["--model", at("not-a-model.safetensors")], /safetensors/],
      [["--model", join(REPO, "models/mnist-topk-1024.safetensors")], /is not a camera model/],
      [["--model", tmp], /--model .* is a folder, not a file/],
      [["--width", "12.5"], /--width must be an integer ≥ 1, got 12\.5/],
      [["--height=-480"], /--height must be an integer ≥ 1, got -480/],
      [["--width", ""], /--width must be an integer ≥ 1, got an empty value/],
      [["--k", "65"], /--k 65 is more than --d-sae 64/],
      [["--input", at("x.yuv"), "--exec", "cat"], /give --input or --exec, not both/],
      [["--save", tmp], /--save .* is a folder, not a file/],
      [["--save", at("no-such-folder/camera.safetensors")], /no-such-folder: no such file or directory/],
      [["--out-dir", at("not-a-model.safetensors")], /not-a-model\.safetensors: file already exists|not a directory/],
    ];
    const runs = await Promise.all(cases.map(([args]) => run(args)));
    runs.forEach((r, i) => expectOneLineError(r, cases[i][1], cases[i][0].join(" ")));
  });

  it("names the frame size of a clip given with the wrong geometry, and exits 2 when nothing was scored", async () => {
    // 5 frames of 320×240 read as 640×480: 1.25 frames, never enough to learn from.
    const small = ffmpegToFile(5, ["scale=320:240"], "small.yuv");
    const hint = /576000 bytes are not whole 640×480 frames; they are 5 frames of 320×240 \(try --width 320 --height 240\)/;
    const file = await run(["--input", small]);
    expectOneLineError(file, new RegExp(`nothing scored: the input ended after 1 frame of 640×480, before learning was done \\(--skip 0 \\+ --learn 20\\); ${hint.source}`));
    expect(jsonLines(file.stdout)[0]).toMatchObject({ event: "size-warning", hint: expect.stringMatching(hint) });
    expect(file.stdout).not.toMatch(/--stride/);

    const piped = spawn(process.execPath, [WATCH, "--out-dir", at("bad")], { stdio: ["pipe", "pipe", "pipe"] });
    children.push(piped);
    let out = "", stderr = "";
    piped.stdout!.on("data", (d) => (out += d));
    piped.stderr!.on("data", (d) => (stderr += d));
    piped.stdin!.end(readFileSync(small));
    const code = await new Promise((r) => piped.once("close", r));
    expectOneLineError({ code: code as number, stdout: out, stderr }, hint, "through a pipe");
    expect(jsonLines(out).find((e) => e.event === "partial-frame")).toMatchObject({ bytes: 115200, after: 0, hint: expect.stringMatching(hint) });

    // The right geometry scores it.
    const ok = await run(["--input", small, "--width", "320", "--height", "240", "--learn", "4"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(jsonLines(ok.stdout).at(-1)).toMatchObject({ event: "end", frames: 5, scored: 1 });

    expectOneLineError(await run(["--input", "/dev/null"]), /nothing scored: the input held no whole 640×480 frame \(460800 bytes\)/);
  });
});
