// globalSetup of every runtime project: the fixtures all runtimes read (make-fixtures.mjs,
// in its own process: building the big model takes ~150 MB it gives back on exit).
import { execFileSync } from "node:child_process";
import { HERE } from "./paths.mjs";

export default function setup() {
  execFileSync(process.execPath, [`${HERE}make-fixtures.mjs`], { stdio: ["ignore", "inherit", "inherit"] });
}
