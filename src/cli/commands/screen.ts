// `sae-edge screen`: adds a low-rank or int4 screen to an int8 TopK model, then reports its
// active-set recall against the unscreened model on held-out rows (the screen is approximate: check it).
import type { Command } from "commander";
import { fail } from "../../base/errors.js";
import type { KernelName } from "../../runtime/index.js";
import { addInt4Screen, addScreen } from "../../model/screen.js";
import { fidelityReport } from "../../metrics/fidelity.js";
import { loadSae } from "../../adapters/node/index.js";
import { checkOutput, readBytes, readInput, writeFileAtomic } from "../io.js";
import { intOption } from "../options.js";
import { kernelOption, open, usage } from "../shared.js";

export function registerScreen(program: Command): void {
  program
    .command("screen")
    .description("add a screen to an int8 TopK model: encode ranks every latent with a cheaper pass, then rescores the best pool exactly. --int4: W_enc in 4 bits, half the bytes per row (faster where the encoder does not fit the cache); else low-rank: rank projected dims (faster when inputs are close to low-rank). Check the reported recall")
    .argument("<model>", "int8 TopK sae-edge model")
    .argument("<samples>", "typical inputs .npy [n, d_in]: the low-rank screen's directions are learned from them; the recall is reported on them")
    .requiredOption("-o, --output <file>", "screened model to write")
    .option("--int4", "an int4 screen instead of a low-rank one")
    .option("--rank <n>", "low-rank: projected dims, a multiple of 16", intOption("rank", 16), 64)
    .option("--pool <n>", "candidates rescored per row (default 4·k)", intOption("pool", 1))
    .option("--val <file>", "held-out inputs for the recall report (default: the samples)")
    .addOption(kernelOption())
    .action(async (model: string, samples: string, o: { output: string; int4?: boolean; rank: number; pool?: number; val?: string; kernel?: KernelName }, cmd: Command) => {
      await checkOutput(o.output, "output", [model, samples, o.val]);
      const plain = await open(model, o.kernel, cmd);
      const bytes = await readBytes(model, "model");
      const { dIn } = plain.info;
      const fit = await readInput(samples, dIn, usage(cmd));
      if (o.int4 && cmd.getOptionValueSource("rank") === "cli") fail("INVALID_ARGUMENT", "--rank is for low-rank screens, not --int4");
      if (o.rank % 16 !== 0) fail("INVALID_ARGUMENT", `--rank must be a multiple of 16, got ${o.rank}`);
      const screened = o.int4 ? addInt4Screen(bytes, { pool: o.pool }) : addScreen(bytes, fit.data, { rank: o.rank, pool: o.pool });
      const check = o.val ? await readInput(o.val, dIn) : fit;
      const sae = await loadSae(screened, { kernel: o.kernel });
      // The unscreened model is the reference the screened one is measured against.
      const r = fidelityReport(plain, sae, check.data);
      await writeFileAtomic(o.output, screened);
      const screen = sae.info.screen!;
      const kind = "bits" in screen ? "int4" : `rank ${screen.rank}`;
      process.stderr.write(`wrote ${o.output}: screen ${kind}, pool ${screen.pool}; active-set recall vs unscreened ${r.activeSetRecall.toFixed(4)} on ${check.rows} ${o.val ? "held-out" : "sample"} rows, FVU change ${(100 * r.fvuIncrease).toFixed(2)}% vs unscreened\n`);
    });
}
