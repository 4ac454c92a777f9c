// A static `.wasm` import is a compiled WebAssembly.Module under wrangler/workerd
// (its CompiledWasm module rule), the only way Workers may get wasm code.
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
