/** Code generation from BTF: `generateTypes` (bpfkit gen types) and the TypedMap type it uses. */
export { generateTypes, objectBaseName, pascal, type GenOptions } from './types.js';
export type { TypedMap } from './typed.js';
