// Seeded synthetic sensor streams with labelled faults, to measure the detector where the truth
// is known. Three normals: a noisy sine, two channels following one mean-reverting random walk,
// and a step signal (10/14 every 20 samples). Five faults, each on one channel: a spike, a level
// shift, a stuck sensor (the value held), a noise burst, and a correlation break (the channel
// follows its own walk instead of the shared one; two-channel streams only).

export const FAULTS = ["spike", "level", "stuck", "noise", "correlation"];
const LENGTH = { spike: 1, level: 30, stuck: 40, noise: 30, correlation: 60 };

/** Each normal: channels, its channels' typical spread (std) and sensor noise, and a sample generator. */
export const NORMALS = {
  sine: { channels: 1, std: 0.71, noise: 0.1, make: (rand) => (t) => [Math.sin((2 * Math.PI * t) / 50) + 0.1 * gauss(rand)] },
  walk: {
    channels: 2, std: 1, noise: 0.1,
    make: (rand) => {
      let z = gauss(rand);
      return () => {
        z = 0.98 * z + 0.2 * gauss(rand); // stationary std 1
        return [z + 0.1 * gauss(rand), z + 0.1 * gauss(rand)];
      };
    },
  },
  step: { channels: 1, std: 2, noise: 0.1, make: (rand) => (t) => [(Math.floor(t / 20) % 2 ? 14 : 10) + 0.1 * gauss(rand)] },
};

/**
 * A stream: `normal` clean samples (to learn from and to measure false alerts on), then `faulty`
 * samples in which faults of each kind the stream can have come in turn, `gap` normal samples apart.
 * Returns { channels, samples: Float32Array[], fault: (kind | null)[] per sample, faultyFrom }.
 */
export function syntheticStream(name, { normal, faulty, gap = 80, seed = 1 }) {
  const spec = NORMALS[name];
  if (!spec) throw new Error(`no synthetic stream ${name}: ${Object.keys(NORMALS).join(", ")}`);
  const rand = mulberry32(seed), C = spec.channels;
  const next = spec.make(rand), other = NORMALS.walk.make(mulberry32(seed ^ 0x5eed));
  const samples = [], fault = [];
  for (let t = 0; t < normal + faulty; t++) (samples.push(next(t)), fault.push(null));
  const kinds = FAULTS.filter((k) => k !== "correlation" || C > 1);
  for (let t = normal + gap, i = 0; t + LENGTH.correlation < normal + faulty; i++) {
    const kind = kinds[i % kinds.length], len = LENGTH[kind], c = Math.floor(rand() * C), sign = rand() < 0.5 ? -1 : 1;
    for (let u = t; u < t + len; u++) {
      const s = samples[u];
      if (kind === "spike") s[c] += sign * 6 * spec.std;
      else if (kind === "level") s[c] += sign * 1.5 * spec.std;
      else if (kind === "stuck") s[c] = samples[t - 1][c];
      else if (kind === "noise") s[c] += 4 * spec.noise * gauss(rand);
      else s[c] = other()[0];
      fault[u] = kind;
    }
    t += len + gap;
  }
  return { channels: C, samples: samples.map((s) => Float32Array.from(s)), fault, faultyFrom: normal };
}

/**
 * A window's label from the faults of its samples: the kind if it holds enough of it (the whole
 * fault, or half the window), "normal" if none, null (left out) if it only grazes one.
 */
export function windowLabel(fault, end, W) {
  let kind = null, n = 0;
  for (let t = end - W + 1; t <= end; t++) if (fault[t]) (kind = fault[t], n++);
  if (!kind) return "normal";
  return n >= Math.min(LENGTH[kind], Math.ceil(W / 2)) ? kind : null;
}

export function mulberry32(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function gauss(rand) {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}
