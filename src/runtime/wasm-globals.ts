// The WebAssembly types sae-edge's declarations name come with lib.dom and lib.webworker.
// Declared here too (empty interfaces merge with the lib's own) so that a Node project
// whose lib has neither still type-checks them.
declare global {
  namespace WebAssembly {
    interface Module {}
    interface Memory {}
  }
}
export {};
