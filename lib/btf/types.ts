/**
 * The BTF type model. `types[0]` is the void type; every other entry is indexed by its BTF id.
 * Parsing lives in `parse.ts`; this file is only the data shape shared by everything that reads
 * BTF (codecs, CO-RE, gen types, the verifier, disassembly with source).
 */

export const enum BtfKind {
  Void = 0, Int = 1, Ptr = 2, Array = 3, Struct = 4, Union = 5, Enum = 6, Fwd = 7, Typedef = 8,
  Volatile = 9, Const = 10, Restrict = 11, Func = 12, FuncProto = 13, Var = 14, Datasec = 15,
  Float = 16, DeclTag = 17, TypeTag = 18, Enum64 = 19,
}

export interface BtfMember { name: string; type: number; /** bit offset */ bitOffset: number; bitSize: number }
export interface BtfEnumValue { name: string; value: bigint }
export interface BtfParam { name: string; type: number }
export interface BtfVarSecinfo { type: number; offset: number; size: number }

export type BtfType =
  | { kind: BtfKind.Void; id: 0; name: '' }
  | { kind: BtfKind.Int; id: number; name: string; size: number; encoding: { signed: boolean; char: boolean; bool: boolean }; bitOffset: number; bits: number }
  | { kind: BtfKind.Ptr; id: number; name: string; type: number }
  | { kind: BtfKind.Array; id: number; name: string; elemType: number; indexType: number; nelems: number }
  | { kind: BtfKind.Struct | BtfKind.Union; id: number; name: string; size: number; members: BtfMember[] }
  | { kind: BtfKind.Enum | BtfKind.Enum64; id: number; name: string; size: number; signed: boolean; values: BtfEnumValue[] }
  | { kind: BtfKind.Fwd; id: number; name: string; union: boolean }
  | { kind: BtfKind.Typedef | BtfKind.Volatile | BtfKind.Const | BtfKind.Restrict | BtfKind.TypeTag; id: number; name: string; type: number }
  | { kind: BtfKind.Func; id: number; name: string; type: number; linkage: number }
  | { kind: BtfKind.FuncProto; id: number; name: string; returnType: number; params: BtfParam[] }
  | { kind: BtfKind.Var; id: number; name: string; type: number; linkage: number }
  | { kind: BtfKind.Datasec; id: number; name: string; size: number; vars: BtfVarSecinfo[] }
  | { kind: BtfKind.Float; id: number; name: string; size: number }
  | { kind: BtfKind.DeclTag; id: number; name: string; type: number; componentIdx: number };
