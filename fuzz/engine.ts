// The fuzzer's engine, bundled by fuzz/fuzz.mjs: the corpus on disk, the input for (seed, index)
// (the same on every run, so a finding replays from two numbers), and minimization.
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { rng } from "../src/base/rng.js";
import { FORMATS, TARGETS, runInput, type Parts } from "./targets.js";
import { mutateBytes, pick } from "./mutate.js";

export { FORMATS, runInput, type Parts };

export type Corpus = Record<string, Parts[]>;

/** Writes every target's seeds to `dir`/<format>/<seed>/<part>. */
export async function makeCorpus(dir: string): Promise<number> {
  let files = 0;
  for (const [format, target] of Object.entries(TARGETS)) {
    for (const [name, parts] of Object.entries(await target.seeds())) {
      await mkdir(join(dir, format, name), { recursive: true });
      for (const [part, bytes] of Object.entries(parts)) (await writeFile(join(dir, format, name, part), bytes), files++);
    }
  }
  return files;
}

export async function readParts(dir: string): Promise<Parts> {
  const names = (await readdir(dir)).filter((n) => n !== "finding.json");
  return Object.fromEntries(await Promise.all(names.map(async (n) => [n, new Uint8Array(await readFile(join(dir, n)))])));
}

export async function loadCorpus(dir: string): Promise<Corpus> {
  const corpus: Corpus = {};
  for (const format of FORMATS) {
    const seeds = (await readdir(join(dir, format)).catch(() => [])).sort();
    corpus[format] = await Promise.all(seeds.map((s) => readParts(join(dir, format, s))));
    if (!corpus[format].length) throw new Error(`no seeds for ${format} in ${dir}: run npm run fuzz -- --make-corpus`);
  }
  return corpus;
}

/** The format and input number `index` of the run seeded `seed` feeds. */
export function generate(corpus: Corpus, formats: readonly string[], seed: number, index: number): { format: string; input: Parts } {
  const format = formats[index % formats.length];
  const r = rng((Math.imul(seed, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
  const seedInput = pick(r, corpus[format]);
  try {
    return { format, input: TARGETS[format].mutate(r, seedInput) };
  } catch (e) {
    // A mutator's own bug must not stop the run: say so, and feed the seed's bytes flipped instead.
    console.error(`fuzz: mutator failed on ${format} #${index}: ${(e as Error).stack}`);
    return { format, input: Object.fromEntries(Object.entries(seedInput).map(([k, v]) => [k, mutateBytes(r, v)])) };
  }
}

/** How an untyped failure is told apart from another: its class and message without numbers. */
export function signature(e: unknown): string {
  const err = e as Error;
  return `${err?.constructor?.name ?? typeof e}: ${String(err?.message ?? e).replace(/\d+/g, "N").slice(0, 120)}`;
}

/**
 * A smaller input failing the same way: chunks of the largest part cut out, halving their size,
 * while the failure's signature stays (at most `budget` runs and `seconds`, within the driver's hang timeout).
 */
export async function minimize(format: string, input: Parts, sig: string, budget = 400, seconds = 5): Promise<Parts> {
  const deadline = performance.now() + seconds * 1000;
  const fails = async (candidate: Parts) => {
    try {
      await runInput(format, candidate);
      return false;
    } catch (e) {
      return signature(e) === sig;
    }
  };
  let best = input;
  const name = Object.keys(best).sort((a, b) => best[b].length - best[a].length)[0];
  for (let chunk = best[name].length >> 1; chunk >= 1 && budget > 0; chunk >>= 1) {
    for (let at = 0; at < best[name].length && budget > 0 && performance.now() < deadline; ) {
      const b = best[name];
      const cut = new Uint8Array(b.length - Math.min(chunk, b.length - at));
      cut.set(b.subarray(0, at));
      cut.set(b.subarray(at + chunk), at);
      budget--;
      if (await fails({ ...best, [name]: cut })) best = { ...best, [name]: cut };
      else at += chunk;
    }
  }
  return best;
}
