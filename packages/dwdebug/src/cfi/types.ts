/**
 * The rules of one row of the call frame table (DWARF 5 §6.4.1): how to find
 * the canonical frame address (CFA) and each saved register of the caller.
 * Offsets are already multiplied by the CIE's data alignment factor.
 */

/** How the CFA is computed. */
export type CfaRule =
  | { readonly kind: 'reg-offset'; readonly reg: number; readonly offset: number }
  /** DW_CFA_def_cfa_expression: evaluate the expression; its result is the CFA. */
  | { readonly kind: 'expression'; readonly expr: Uint8Array };

/** How a caller's register is recovered. */
export type RegisterRule =
  /** The register has no recoverable value in the caller. */
  | { readonly kind: 'undefined' }
  /** The register keeps its value (callee-saved and untouched). */
  | { readonly kind: 'same-value' }
  /** Saved at address CFA + offset. */
  | { readonly kind: 'offset'; readonly offset: number }
  /** The value is CFA + offset. */
  | { readonly kind: 'val-offset'; readonly offset: number }
  /** The value is in another register. */
  | { readonly kind: 'register'; readonly reg: number }
  /** Saved at the address the expression computes (CFA pushed first). */
  | { readonly kind: 'expression'; readonly expr: Uint8Array }
  /** The value is what the expression computes (CFA pushed first). */
  | { readonly kind: 'val-expression'; readonly expr: Uint8Array };

/** A Common Information Entry. */
export interface Cie {
  /** Offset of the entry in its section. */
  readonly offset: number;
  readonly section: '.eh_frame' | '.debug_frame';
  readonly version: number;
  readonly augmentation: string;
  readonly addressSize: number;
  readonly segmentSize: number;
  readonly codeAlign: number;
  readonly dataAlign: number;
  readonly returnAddressRegister: number;
  /** `R`: how FDE addresses are encoded (absptr without it). */
  readonly fdeEncoding: number;
  /** `L`: how the FDE's LSDA pointer is encoded (omit without it). */
  readonly lsdaEncoding: number;
  /** `P`: the personality routine (undefined when absent or indirect through memory we do not read). */
  readonly personality?: bigint;
  /** `S`: frames of this CIE are signal frames (the return address is not after a call). */
  readonly signalFrame: boolean;
  /** Whether augmentation data (`z`) is present: FDEs then carry their own length-prefixed data. */
  readonly hasAugmentationData: boolean;
  readonly initialInstructions: Uint8Array;
  /** Offset of the initial instructions in the section (for error messages). */
  readonly instructionsOffset: number;
}

/** A Frame Description Entry. */
export interface Fde {
  readonly offset: number;
  readonly cie: Cie;
  /** Link-time address of the first instruction covered. */
  readonly start: bigint;
  /** First address after the range. */
  readonly end: bigint;
  /** The language-specific data area (exception tables), when `L` says there is one. */
  readonly lsda?: bigint;
  readonly instructions: Uint8Array;
  readonly instructionsOffset: number;
}

/** One row of the table: the rules valid for `start <= pc < end`. */
export interface CfiRow {
  readonly start: bigint;
  readonly end: bigint;
  readonly cfa: CfaRule;
  /** Rules for registers the CIE/FDE mention; a register absent here has the architecture's default rule. */
  readonly registers: ReadonlyMap<number, RegisterRule>;
  readonly returnAddressRegister: number;
  readonly signalFrame: boolean;
  /** DW_CFA_GNU_args_size in effect (bytes of outgoing arguments pushed), 0 when unknown. */
  readonly argsSize: number;
  readonly fde: Fde;
}
