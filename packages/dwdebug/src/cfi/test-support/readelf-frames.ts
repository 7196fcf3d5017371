/**
 * Parses `readelf --debug-dump=frames-interp` and compares its rows with a
 * CfiTable's: the independent oracle for the CFI tests.
 */
import type { CfiTable } from '../table.js';
import type { CfiRow, Fde, RegisterRule } from '../types.js';

/** One FDE as readelf interprets it. */
export interface ReadelfFde {
  readonly section: '.eh_frame' | '.debug_frame';
  readonly offset: number;
  readonly cie: number;
  readonly start: bigint;
  readonly end: bigint;
  readonly columns: readonly string[];
  /** [loc, cfa, ...register columns] per row; empty when readelf printed no table (the CIE's rules apply). */
  readonly rows: readonly (readonly string[])[];
}

/** One CIE with readelf's initial row. */
export interface ReadelfCie {
  readonly ra: number;
  readonly columns: readonly string[];
  readonly row?: readonly string[];
}

const X86_64 = ['rax', 'rdx', 'rcx', 'rbx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip'];
const I386 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'eip', 'eflags'];

/** The DWARF register number of a readelf column name. */
export function registerNumber(name: string, is64: boolean, ra: number): number {
  if (name === 'ra') return ra;
  const names = is64 ? X86_64 : I386;
  const i = names.indexOf(name);
  if (i >= 0) return i;
  const xmm = /^xmm(\d+)$/.exec(name);
  if (xmm && is64) return Number(xmm[1]) < 16 ? 17 + Number(xmm[1]) : 67 + Number(xmm[1]) - 16;
  const r = /^r(\d+)$/.exec(name);
  if (r) return Number(r[1]);
  throw new Error(`unknown readelf register name ${name}`);
}

/** Parses the frames-interp dump of all frame sections. */
export function parseFramesInterp(text: string): { fdes: ReadelfFde[]; cies: Map<string, ReadelfCie> } {
  const fdes: ReadelfFde[] = [];
  const cies = new Map<string, ReadelfCie>();
  let section: ReadelfFde['section'] = '.eh_frame';
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const sec = /^Contents of the (\.eh_frame|\.debug_frame) section:/.exec(line);
    if (sec) {
      section = sec[1] as ReadelfFde['section'];
      continue;
    }
    const cie = /^([0-9a-f]+) [0-9a-f]+ [0-9a-f]+ CIE ".*" cf=\S+ df=\S+ ra=(\d+)/.exec(line);
    const fde = /^([0-9a-f]+) [0-9a-f]+ [0-9a-f]+ FDE cie=([0-9a-f]+) pc=([0-9a-f]+)\.\.([0-9a-f]+)/.exec(line);
    if (!cie && !fde) continue;
    // The table: a header line starting with LOC, then rows until a blank line.
    let columns: string[] = [];
    const rows: string[][] = [];
    let j = i + 1;
    if (lines[j]?.trim().startsWith('LOC')) {
      columns = lines[j]!.trim().split(/\s+/).slice(2);
      // A register rule prints as "r1 (rdx)": keep just "r1".
      for (j = j + 1; j < lines.length && lines[j]!.trim() !== ''; j++) rows.push(lines[j]!.trim().replace(/ \([^)]*\)/g, '').split(/\s+/));
    }
    if (cie) cies.set(`${section}:${parseInt(cie[1]!, 16)}`, { ra: Number(cie[2]), columns, ...(rows[0] ? { row: rows[0] } : {}) });
    else if (fde) {
      fdes.push({ section, offset: parseInt(fde[1]!, 16), cie: parseInt(fde[2]!, 16), start: BigInt('0x' + fde[3]!), end: BigInt('0x' + fde[4]!), columns, rows });
    }
    i = j - 1;
  }
  return { fdes, cies };
}

function ruleText(rule: RegisterRule | undefined): string {
  if (!rule) return 'u';
  switch (rule.kind) {
    case 'undefined': return 'u';
    case 'same-value': return 's';
    case 'offset': return `c${rule.offset >= 0 ? '+' : ''}${rule.offset}`;
    case 'val-offset': return `v${rule.offset >= 0 ? '+' : ''}${rule.offset}`;
    case 'register': return `r${rule.reg}`;
    case 'expression': return 'exp';
    case 'val-expression': return 'vexp';
  }
}

/** Our row in readelf's notation for the given columns. */
export function rowText(row: CfiRow, columns: readonly string[], is64: boolean, ra: number): string[] {
  const names = is64 ? X86_64 : I386;
  const regName = (n: number) => (n === ra ? 'ra' : (names[n] ?? `r${n}`));
  const cfa = row.cfa.kind === 'expression' ? 'exp' : `${regName(row.cfa.reg)}${row.cfa.offset >= 0 ? '+' : ''}${row.cfa.offset}`;
  return [cfa, ...columns.map((c) => ruleText(row.registers.get(registerNumber(c, is64, ra))))];
}

/**
 * Compares every FDE readelf printed with the table: at each of readelf's
 * row locations, and the row boundaries themselves. Returns mismatch
 * descriptions (empty when all agree) and how many rows were compared.
 */
export function compareWithReadelf(table: CfiTable, dump: string, is64: boolean, only?: ReadelfFde['section']): { mismatches: string[]; fdes: number; rows: number } {
  const { fdes, cies } = parseFramesInterp(dump);
  const mismatches: string[] = [];
  let rowsCompared = 0;
  let fdesCompared = 0;
  const ourFdes = new Map<string, Fde>();
  for (const sec of ['.eh_frame', '.debug_frame'] as const) for (const x of table.fdes(sec)) ourFdes.set(`${sec}:${x.offset}`, x);
  for (const f of fdes) {
    if (only && f.section !== only) continue;
    if (f.end <= f.start) continue;
    const cie = cies.get(`${f.section}:${f.cie}`);
    if (!cie) {
      mismatches.push(`${f.section} FDE 0x${f.offset.toString(16)}: CIE not in dump`);
      continue;
    }
    const fde = ourFdes.get(`${f.section}:${f.offset}`);
    if (!fde) {
      mismatches.push(`${f.section} FDE 0x${f.offset.toString(16)} not found`);
      continue;
    }
    fdesCompared++;
    if (fde.start !== f.start || fde.end !== f.end) mismatches.push(`${f.section} FDE 0x${f.offset.toString(16)}: range ${fde.start.toString(16)}..${fde.end.toString(16)}, readelf ${f.start.toString(16)}..${f.end.toString(16)}`);
    const ours = table.rowsOf(fde);
    // Without a printed table the CIE's initial row applies to the whole range.
    const columns = f.rows.length ? f.columns : cie.columns;
    const theirRows = f.rows.length ? f.rows : cie.row ? [[f.start.toString(16), ...cie.row.slice(1)]] : [];
    // readelf may print several rows at one location (an advance by 0): the last one holds.
    const byLoc = new Map<string, readonly string[]>();
    for (const r of theirRows) byLoc.set(BigInt('0x' + r[0]!).toString(16), r);
    const ourStarts = ours.map((r) => r.start.toString(16));
    const theirStarts = [...byLoc.keys()];
    if (ourStarts.join() !== theirStarts.join()) mismatches.push(`${f.section} FDE 0x${f.offset.toString(16)}: rows start at [${ourStarts}], readelf [${theirStarts}]`);
    const ourByLoc = new Map(ours.map((x) => [x.start.toString(16), x]));
    for (const [loc, r] of byLoc) {
      const row = ourByLoc.get(loc);
      if (!row) continue;
      rowsCompared++;
      const mine = rowText(row, columns, is64, cie.ra).join(' ');
      const theirs = r.slice(1).join(' ');
      if (mine !== theirs) mismatches.push(`${f.section} FDE 0x${f.offset.toString(16)} @${loc}: ours "${mine}", readelf "${theirs}"`);
      // A register we track that readelf has no column for must be undefined.
      for (const [reg, rule] of row.registers) {
        if (rule.kind === 'undefined') continue;
        if (!columns.some((c) => registerNumber(c, is64, cie.ra) === reg)) mismatches.push(`${f.section} FDE 0x${f.offset.toString(16)} @${loc}: extra rule for r${reg}`);
      }
    }
  }
  return { mismatches, fdes: fdesCompared, rows: rowsCompared };
}
