// Written by scripts/build-js.mjs from package.json: do not edit.
export const VERSION = "0.1.0";
/** The stamp in the files sae-edge writes (created_by, trained_by). */
export const CREATED_BY = "sae-edge 0.1.0";
