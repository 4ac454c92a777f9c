// wrangler's Data module rule: the model file arrives as an ArrayBuffer.
declare module "*.safetensors" {
  const data: ArrayBuffer;
  export default data;
}
