/**
 * The contract between location descriptions (DWARF expressions) and whoever
 * evaluates them against a live or dead target. The evaluator asks for registers
 * and memory through {@link LocationEnv}; unit-level facts come from
 * {@link UnitEnv}.
 */

/** Facts of the compilation unit an expression comes from. */
export interface UnitEnv {
  readonly version: number;
  readonly addressSize: number;
  readonly offsetSize: 4 | 8;
  readonly littleEndian: boolean;
  /** Added to DW_OP_addr / DW_OP_addrx results (the module's load bias). */
  readonly bias: bigint;
  /** DW_OP_addrx / DW_OP_constx: entry `index` of the unit's `.debug_addr` table. */
  addrx(index: number): bigint;
  /** Typed-stack ops: the base type DIE at a unit-relative offset (size in bytes, DW_ATE_* encoding). */
  baseType(unitOffset: number): { readonly size: number; readonly encoding: number } | undefined;
  /** DW_OP_call2/call4/call_ref: the location expression of the DIE at a (section) offset. */
  callTarget?(dieOffset: number): Uint8Array | undefined;
  /** Section offset of the unit header: DW_OP_call2/call4 operands are unit-relative and are added to it. */
  readonly unitOffset?: number;
}

/** What an evaluation needs from the frame it runs in. Everything may be async. */
export interface LocationEnv {
  /** A register's value by DWARF number, or undefined when not recoverable in this frame. */
  register(dwarf: number): Promise<bigint | undefined>;
  /** Reads memory; rejects when the memory cannot be read. */
  memory(address: bigint, size: number): Promise<Uint8Array>;
  /** The enclosing function's frame base (DW_AT_frame_base evaluated), for DW_OP_fbreg. */
  frameBase?(): Promise<bigint | undefined>;
  /** The canonical frame address, for DW_OP_call_frame_cfa. */
  cfa?(): Promise<bigint | undefined>;
  /** DW_OP_entry_value: the value the expression had on entry to the function (from the caller), if known. */
  entryValue?(expr: Uint8Array): Promise<bigint | undefined>;
  /** DW_OP_form_tls_address / DW_OP_GNU_push_tls_address: the thread-local block address of an offset. */
  tlsAddress?(offset: bigint): Promise<bigint | undefined>;
  /** DW_OP_push_object_address. */
  readonly objectAddress?: bigint;
  /** DW_OP_GNU_parameter_ref: the value the caller passed for the parameter DIE at this unit offset, if known. */
  parameterValue?(unitOffset: number): Promise<bigint | undefined>;
  /** DW_OP_GNU_variable_value: the value of the variable DIE at this section offset, if it can be read here. */
  variableValue?(dieOffset: number): Promise<bigint | undefined>;
}

/** A piece of a composite location (DW_OP_piece / DW_OP_bit_piece). */
export interface LocationPiece {
  readonly location: SimpleLocation;
  /** Size of the piece in bits. */
  readonly bitSize: number;
  /** Bit offset within the location (DW_OP_bit_piece). */
  readonly bitOffset: number;
}

/** A location without pieces. */
export type SimpleLocation =
  | { readonly kind: 'memory'; readonly address: bigint }
  | { readonly kind: 'register'; readonly dwarf: number }
  /** DW_OP_stack_value, DW_OP_implicit_value, typed values: the value itself, in the unit's byte order (little-endian on x86). */
  | { readonly kind: 'value'; readonly bytes: Uint8Array }
  /** DW_OP_implicit_pointer: points at a variable that has no memory location. */
  | { readonly kind: 'implicit-pointer'; readonly die: number; readonly offset: bigint }
  /** An empty piece or expression: the value does not exist here. */
  | { readonly kind: 'optimized-out' }
  /** The value exists but this frame cannot recover it (a register the unwinder lost, an unreadable stack, an unknown entry value). */
  | { readonly kind: 'unavailable'; readonly reason: string };

/** The result of evaluating a location description. */
export type LocationResult = SimpleLocation | { readonly kind: 'pieces'; readonly pieces: readonly LocationPiece[] };
