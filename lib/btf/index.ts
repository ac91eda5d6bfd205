export * from './types.js';
export { Btf } from './btf.js';
export { parseBtf, parseBtfLayout, parseBtfExt, BTF_MAGIC } from './parse.js';
export type { BtfExt, ExtFuncInfo, ExtLineInfo, ExtCoreReloc, BtfLayout, BtfParseContext } from './parse.js';
export { fixupBtf } from './fixup.js';
export type { BtfFixupInput, DataSymbol } from './fixup.js';
