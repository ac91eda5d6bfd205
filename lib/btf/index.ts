export * from './types.js';
export { Btf } from './btf.js';
export { parseBtf, parseBtfLayout, parseBtfExt, BtfExt, BTF_MAGIC } from './parse.js';
export type { ExtFuncInfo, ExtLineInfo, ExtCoreReloc, BtfLayout, BtfParseContext } from './parse.js';
export { fixupBtf } from './fixup.js';
export type { BtfFixupInput, DataSymbol } from './fixup.js';
