// Draw a digit; the default MNIST SAE (784 -> 1024, TopK k = 32) runs in the page:
// active features with their decoder atoms, the reconstruction, the anomaly score
// and its verdict against the calibrated threshold, updated on every stroke.
import { loadSae } from "sae-edge";
import { drawingPad, toMnist } from "./digit.js";
import { drawAtom, drawGrey } from "./render.js";

const MODEL = new URL("../../models/mnist-topk-1024.safetensors", import.meta.url);
const CALIBRATION = new URL("calibration.json", import.meta.url);
const $ = (id) => document.getElementById(id);

async function fetchJson(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`cannot fetch ${url}: HTTP ${res.status}`);
  return res.json();
}

// The threshold 1% of the MNIST training digits score above (see calibration.json).
const { threshold } = await fetchJson(CALIBRATION);
$("threshold").textContent = threshold.toFixed(3);
const sae = await loadSae(MODEL);
const { dSae, k, kernel } = sae.info;
$("status").textContent = `MNIST SAE 784 → ${dSae}, TopK k = ${k}, int8, running in this page on the ${kernel} WebAssembly build`;

// Decoder atom j = decode(one-hot j) − b_dec, made once per feature.
const bDec = sae.decode({ rows: 1, dSae, rowOffsets: new Uint32Array([0, 0]), indices: new Uint32Array(0), values: new Float32Array(0) });
const atoms = new Map();
function atom(j) {
  if (!atoms.has(j)) {
    const d = sae.decode({ rows: 1, dSae, rowOffsets: new Uint32Array([0, 1]), indices: Uint32Array.of(j), values: Float32Array.of(1) });
    atoms.set(j, d.map((v, i) => v - bDec[i]));
  }
  return atoms.get(j);
}

function showFeatures(codes) {
  const box = $("features");
  box.replaceChildren();
  for (let e = 0; e < codes.indices.length; e++) {
    const cell = document.createElement("div");
    cell.className = "feature";
    const c = document.createElement("canvas");
    c.width = c.height = 28;
    drawAtom(c, atom(codes.indices[e]));
    cell.append(c, `#${codes.indices[e]}\n${codes.values[e].toFixed(2)}`);
    box.append(cell);
  }
}

function showVerdict(verdict) {
  $("verdict").textContent = verdict ?? "draw a digit";
  $("verdict").className = `verdict ${verdict ?? ""}`;
}

let pending = false;
function update() {
  pending = false;
  const x = toMnist($("pad"));
  if (!x) return;
  const t0 = performance.now();
  const codes = sae.encode(x, 1);
  const recon = sae.decode(codes);
  const score = sae.score(x, 1).normalized[0];
  const ms = performance.now() - t0;
  drawGrey($("input"), x);
  drawGrey($("recon"), recon);
  showFeatures(codes);
  $("score").textContent = score.toFixed(3);
  showVerdict(score > threshold ? "anomalous" : "normal");
  $("timing").textContent = `encode + decode + score: ${ms.toFixed(1)} ms`;
  document.body.dataset.updates = String(Number(document.body.dataset.updates ?? 0) + 1);
}

const pad = drawingPad($("pad"), () => {
  if (!pending) requestAnimationFrame(update);
  pending = true;
});
$("clear").addEventListener("click", () => {
  pad.clear();
  for (const id of ["input", "recon"]) $(id).getContext("2d").clearRect(0, 0, 28, 28);
  $("features").replaceChildren();
  $("score").textContent = "–";
  showVerdict();
});
document.body.dataset.ready = "true";
