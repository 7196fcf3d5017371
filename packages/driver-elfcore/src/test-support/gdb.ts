/** Parsers for gdb's batch output, to compare our reading of a core with gdb's. */

/** Output of `thread apply all ...` commands, gathered per LWP (blocks of several commands joined). */
export function perThread(out: string): Map<number, string> {
  const blocks = new Map<number, string>();
  const re = /^Thread \d+ \((?:.*?)LWP (\d+)\)\)?:?\s*$/gm;
  const heads = [...out.matchAll(re)];
  heads.forEach((m, i) => {
    const end = i + 1 < heads.length ? heads[i + 1]!.index : out.length;
    const tid = Number(m[1]);
    blocks.set(tid, (blocks.get(tid) ?? '') + out.slice(m.index + m[0].length, end));
  });
  return blocks;
}

/** `info registers` lines: name → value (raw value for st registers). */
export function registers(block: string): Map<string, bigint> {
  const regs = new Map<string, bigint>();
  for (const line of block.split('\n')) {
    const st = /^(st\d)\s+\S+\s+\(raw (0x[0-9a-f]+)\)/.exec(line);
    if (st) {
      regs.set(st[1]!, BigInt(st[2]!));
      continue;
    }
    const m = /^([a-z][a-z0-9_]*)\s+(0x[0-9a-f]+)\b/.exec(line);
    if (m) regs.set(m[1]!, BigInt(m[2]!));
  }
  return regs;
}

/** `x/Ngx` output: address → 64-bit words, by the address of each line's first word. */
export function examineWords(block: string): Map<bigint, bigint[]> {
  const out = new Map<bigint, bigint[]>();
  for (const line of block.split('\n')) {
    const m = /^(0x[0-9a-f]+)(?: <[^>]*>)?:\s+(.*)$/.exec(line);
    if (m) out.set(BigInt(m[1]!), m[2]!.trim().split(/\s+/).map((w) => BigInt(w)));
  }
  return out;
}

/** `info threads`: the LWP ids. */
export function threadIds(out: string): number[] {
  return [...out.matchAll(/^[* ]\s+\d+\s+(?:Thread 0x[0-9a-f]+ \()?LWP (\d+)/gm)].map((m) => Number(m[1]));
}

/** `info proc mappings` lines of files: start, end, offset, path. */
export function mappings(out: string): { start: bigint; end: bigint; offset: bigint; path: string }[] {
  return [...out.matchAll(/^\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+(\/\S.*)$/gm)].map((m) => ({
    start: BigInt(m[1]!), end: BigInt(m[2]!), offset: BigInt(m[3]!), path: m[4]!.trim(),
  }));
}

/** The value of `p/x EXPR` lines (`$N = 0x...`), in order. */
export function printed(out: string): bigint[] {
  return [...out.matchAll(/^\$\d+ = (0x[0-9a-f]+)/gm)].map((m) => BigInt(m[1]!));
}

/** Little-endian 64-bit words of bytes. */
export function words(bytes: Uint8Array): bigint[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: Math.floor(bytes.length / 8) }, (_, i) => dv.getBigUint64(i * 8, true));
}

/** One frame of `bt`: its pc (gdb omits it when the pc starts a line) and function name. */
export interface GdbFrame {
  readonly pc?: bigint;
  readonly name: string;
}

/** The frames of a `bt` block. */
export function backtrace(block: string): GdbFrame[] {
  return [...block.matchAll(/^#\d+\s+(?:(0x[0-9a-f]+) in )?(\S+) \(/gm)].map((m) => (m[1] ? { pc: BigInt(m[1]), name: m[2]! } : { name: m[2]! }));
}

/** `$N = VALUE` lines of `print`, in order. */
export function printedValues(out: string): string[] {
  return [...out.matchAll(/^\$\d+ = (.*)$/gm)].map((m) => m[1]!);
}
