import { ByteReader } from '../elf/byte-reader.js';
import { DW_CFA } from './constants.js';
import { readEncodedPointer } from './encoding.js';
import type { FrameSection } from './entries.js';
import type { CfaRule, Cie, CfiRow, Fde, RegisterRule } from './types.js';

/** The rules being built while a CFA program runs. */
interface State {
  cfa: CfaRule;
  regs: Map<number, RegisterRule>;
  argsSize: number;
}

/** Deepest DW_CFA_remember_state nesting accepted (real code uses one or two). */
const MAX_REMEMBERED = 64;

const UNDEFINED: RegisterRule = { kind: 'undefined' };
const SAME: RegisterRule = { kind: 'same-value' };
const NO_CFA: CfaRule = { kind: 'reg-offset', reg: -1, offset: 0 };

/**
 * Runs call frame programs (DWARF 5 §6.4.2) to produce table rows.
 *
 * A row is built by running the CIE's initial instructions (once per CIE,
 * cached) and then the FDE's, starting at the FDE's first address. Every
 * advance instruction closes the current row at the new location. Rows for a
 * whole FDE are produced in one pass; callers cache them per FDE and binary
 * search for a pc. `DW_CFA_remember_state` saves the CFA rule along with the
 * register rules, as GCC's unwinder and binutils do (GCC relies on it after
 * epilogues).
 */
export class CfaProgram {
  private readonly initial = new Map<number, State>();
  private readonly reader: ByteReader;

  constructor(private readonly section: FrameSection) {
    this.reader = new ByteReader(section.data, section.littleEndian, { ...(section.file === undefined ? {} : { file: section.file }), section: section.kind });
  }

  /** All rows of an FDE, in address order, covering [fde.start, fde.end). Empty for an empty range. */
  rows(fde: Fde): CfiRow[] {
    const rows: CfiRow[] = [];
    if (fde.end <= fde.start) return rows;
    const init = this.initialState(fde.cie);
    const state: State = { cfa: init.cfa, regs: new Map(init.regs), argsSize: 0 };
    let loc = fde.start;
    const emit = (to: bigint) => {
      const end = to > fde.end ? fde.end : to;
      if (end <= loc) return;
      rows.push({
        start: loc,
        end,
        cfa: state.cfa,
        registers: new Map(state.regs),
        returnAddressRegister: fde.cie.returnAddressRegister,
        signalFrame: fde.cie.signalFrame,
        argsSize: state.argsSize,
        fde,
      });
    };
    this.run(fde.cie, fde.instructionsOffset, fde.instructionsOffset + fde.instructions.length, state, init, fde, (newLoc) => {
      if (newLoc < loc) throw this.reader.error(`location moves backwards to 0x${newLoc.toString(16)}`);
      emit(newLoc);
      loc = newLoc;
      return loc < fde.end;
    });
    emit(fde.end);
    return rows;
  }

  /** The state after a CIE's initial instructions (cached). */
  private initialState(cie: Cie): State {
    let s = this.initial.get(cie.offset);
    if (!s) {
      s = { cfa: NO_CFA, regs: new Map(), argsSize: 0 };
      this.run(cie, cie.instructionsOffset, cie.instructionsOffset + cie.initialInstructions.length, s, undefined, undefined, () => {
        throw this.reader.error('advance instruction in a CIE');
      });
      this.initial.set(cie.offset, s);
    }
    return s;
  }

  /**
   * Interprets instructions in [from, to) of the section. `advance` is called
   * with each new location and returns false to stop early.
   */
  private run(cie: Cie, from: number, to: number, state: State, init: State | undefined, fde: Fde | undefined, advance: (loc: bigint) => boolean): void {
    const r = this.reader;
    r.seek(from);
    const stack: { cfa: CfaRule; regs: Map<number, RegisterRule> }[] = [];
    const daf = cie.dataAlign;
    const caf = BigInt(cie.codeAlign);
    let loc = fde?.start ?? 0n;
    const restore = (reg: number) => {
      const rule = init?.regs.get(reg);
      if (rule) state.regs.set(reg, rule);
      else state.regs.delete(reg);
    };
    const cfaRegOffset = (): { reg: number; offset: number } => {
      if (state.cfa.kind !== 'reg-offset') throw r.error('CFA offset/register change while the CFA is an expression');
      return state.cfa;
    };
    const block = (): Uint8Array => r.bytes(r.uleb());
    while (r.pos < to) {
      const at = r.pos;
      const op = r.u8();
      const high = op & 0xc0;
      const low = op & 0x3f;
      if (high === DW_CFA.advance_loc) {
        loc += BigInt(low) * caf;
        if (!advance(loc)) return;
        continue;
      }
      if (high === DW_CFA.offset) {
        state.regs.set(low, { kind: 'offset', offset: r.uleb() * daf });
        continue;
      }
      if (high === DW_CFA.restore) {
        restore(low);
        continue;
      }
      switch (op) {
        case DW_CFA.nop: break;
        case DW_CFA.set_loc: {
          let p: bigint;
          if (cie.section === '.eh_frame') {
            const e = readEncodedPointer(r, cie.fdeEncoding, { sectionAddress: this.section.address, addressSize: cie.addressSize, ...(fde ? { funcBase: fde.start } : {}) });
            if (!e) throw r.error('DW_CFA_set_loc with an omitted address', at);
            p = e.value;
          } else p = r.unsigned(cie.addressSize);
          loc = p;
          if (!advance(loc)) return;
          break;
        }
        case DW_CFA.advance_loc1: loc += BigInt(r.u8()) * caf; if (!advance(loc)) return; break;
        case DW_CFA.advance_loc2: loc += BigInt(r.u16()) * caf; if (!advance(loc)) return; break;
        case DW_CFA.advance_loc4: loc += BigInt(r.u32()) * caf; if (!advance(loc)) return; break;
        case DW_CFA.MIPS_advance_loc8: loc += r.u64() * caf; if (!advance(loc)) return; break;
        case DW_CFA.offset_extended: { const reg = r.uleb(); state.regs.set(reg, { kind: 'offset', offset: r.uleb() * daf }); break; }
        case DW_CFA.restore_extended: restore(r.uleb()); break;
        case DW_CFA.undefined: state.regs.set(r.uleb(), UNDEFINED); break;
        case DW_CFA.same_value: state.regs.set(r.uleb(), SAME); break;
        case DW_CFA.register: { const reg = r.uleb(); state.regs.set(reg, { kind: 'register', reg: r.uleb() }); break; }
        case DW_CFA.remember_state:
          if (stack.length >= MAX_REMEMBERED) throw r.error('DW_CFA_remember_state nested too deeply', at);
          stack.push({ cfa: state.cfa, regs: new Map(state.regs) });
          break;
        case DW_CFA.restore_state: {
          const saved = stack.pop();
          if (!saved) throw r.error('DW_CFA_restore_state without a remembered state', at);
          state.cfa = saved.cfa;
          state.regs = saved.regs;
          break;
        }
        case DW_CFA.def_cfa: { const reg = r.uleb(); state.cfa = { kind: 'reg-offset', reg, offset: r.uleb() }; break; }
        case DW_CFA.def_cfa_sf: { const reg = r.uleb(); state.cfa = { kind: 'reg-offset', reg, offset: r.sleb() * daf }; break; }
        case DW_CFA.def_cfa_register: state.cfa = { kind: 'reg-offset', reg: r.uleb(), offset: cfaRegOffset().offset }; break;
        case DW_CFA.def_cfa_offset: state.cfa = { kind: 'reg-offset', reg: cfaRegOffset().reg, offset: r.uleb() }; break;
        case DW_CFA.def_cfa_offset_sf: state.cfa = { kind: 'reg-offset', reg: cfaRegOffset().reg, offset: r.sleb() * daf }; break;
        case DW_CFA.def_cfa_expression: state.cfa = { kind: 'expression', expr: block() }; break;
        case DW_CFA.expression: { const reg = r.uleb(); state.regs.set(reg, { kind: 'expression', expr: block() }); break; }
        case DW_CFA.val_expression: { const reg = r.uleb(); state.regs.set(reg, { kind: 'val-expression', expr: block() }); break; }
        case DW_CFA.offset_extended_sf: { const reg = r.uleb(); state.regs.set(reg, { kind: 'offset', offset: r.sleb() * daf }); break; }
        case DW_CFA.val_offset: { const reg = r.uleb(); state.regs.set(reg, { kind: 'val-offset', offset: r.uleb() * daf }); break; }
        case DW_CFA.val_offset_sf: { const reg = r.uleb(); state.regs.set(reg, { kind: 'val-offset', offset: r.sleb() * daf }); break; }
        case DW_CFA.GNU_args_size: state.argsSize = r.uleb(); break;
        case DW_CFA.GNU_negative_offset_extended: { const reg = r.uleb(); state.regs.set(reg, { kind: 'offset', offset: -r.uleb() * daf }); break; }
        // SPARC register-window save / AArch64 return-address signing toggle: no x86 meaning, no operands.
        case DW_CFA.GNU_window_save: break;
        default:
          throw r.error(`unknown call frame instruction 0x${op.toString(16)}`, at);
      }
      if (r.pos > to) throw r.error('call frame instruction runs past its entry', at);
    }
  }
}
