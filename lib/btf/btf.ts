import type { BtfType } from './types.js';

/**
 * Parsed BTF. `raw` is the (possibly fixed-up) blob suitable for BPF_BTF_LOAD; `types[id]` is
 * the type with that id; `strings` is the raw string section for offset look-ups.
 * The ELF/BTF reader owns the parsing (`parse.ts`) and the helper methods below.
 */
export class Btf {
  constructor(
    readonly raw: Uint8Array,
    readonly types: BtfType[],
    readonly strings: Uint8Array,
  ) {}
}
