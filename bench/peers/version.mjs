// Installed version of a peer package (some packages do not export ./package.json).
import { readFileSync } from "node:fs";

export const version = (pkg) => JSON.parse(readFileSync(new URL(`./node_modules/${pkg}/package.json`, import.meta.url), "utf8")).version;
