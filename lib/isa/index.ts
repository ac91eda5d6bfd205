export * from './opcodes.js';
export * from './insn.js';
export * from './helpers.js';
export * from './disasm.js';
export * from './kernel-syntax.js';
