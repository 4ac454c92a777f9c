// wrangler's Data module rule: the model file arrives as an ArrayBuffer.
declare module "*.safetensors" {
  const data: ArrayBuffer;
  export default data;
}

// wrangler's CompiledWasm rule: sae-edge's Workers entry imports its kernel builds as
// compiled modules (Workers may not compile wasm at run time).
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
