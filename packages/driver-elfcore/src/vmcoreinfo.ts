/**
 * The kernel's VMCOREINFO: `KEY=VALUE` lines the kernel prepares for dump
 * tools (`OSRELEASE=`, `PAGESIZE=`, `SYMBOL(name)=` in hex, `OFFSET(type.member)=`,
 * `SIZE(type)=`, `LENGTH(name)=` and `NUMBER(name)=` in decimal, `KERNELOFFSET=`
 * in hex, `BUILD-ID=`...). QEMU copies it into `dump-guest-memory` output when
 * the guest exposes it (`-device vmcoreinfo`), and kdump vmcores carry it.
 */
export class VmcoreInfo {
  /** Every line, by key, in file order (the first occurrence wins). */
  readonly entries: ReadonlyMap<string, string>;

  constructor(readonly text: string) {
    const m = new Map<string, string>();
    for (const line of text.split('\n')) {
      const eq = line.indexOf('=');
      if (eq <= 0) continue;
      const key = line.slice(0, eq);
      if (!m.has(key)) m.set(key, line.slice(eq + 1).replace(/\0+$/, ''));
    }
    this.entries = m;
  }

  /** Parses a VMCOREINFO note's descriptor. */
  static fromNote(desc: Uint8Array): VmcoreInfo {
    const z = desc.indexOf(0);
    return new VmcoreInfo(new TextDecoder('latin1').decode(z < 0 ? desc : desc.subarray(0, z)));
  }

  /** A raw value by its full key (`OSRELEASE`, `SYMBOL(init_uts_ns)`). */
  get(key: string): string | undefined {
    return this.entries.get(key);
  }

  /** `OSRELEASE`: the kernel release (`uname -r`). */
  get osRelease(): string | undefined {
    return this.get('OSRELEASE');
  }

  /** `BUILD-ID`: the kernel image's GNU build-id in hex (kernels 5.9 and later). */
  get buildId(): string | undefined {
    return this.get('BUILD-ID')?.toLowerCase();
  }

  /** `PAGESIZE`. */
  get pageSize(): number | undefined {
    return this.decimal('PAGESIZE');
  }

  /**
   * `KERNELOFFSET`: how far KASLR moved the kernel's text from its link-time
   * address (0 without KASLR, or when the key is absent).
   */
  get kernelOffset(): bigint {
    return this.hex('KERNELOFFSET') ?? 0n;
  }

  /** `NUMBER(phys_base)`: physical address of the kernel's link-time base (x86-64). */
  get physBase(): bigint | undefined {
    return this.number('phys_base');
  }

  /** Whether the kernel runs 5-level paging (`NUMBER(pgtable_l5_enabled)`), when it says. */
  get fiveLevelPaging(): boolean | undefined {
    const v = this.number('pgtable_l5_enabled');
    return v === undefined ? undefined : v !== 0n;
  }

  /** `SYMBOL(name)`: a symbol's run-time address (KASLR already applied). */
  symbol(name: string): bigint | undefined {
    return this.hex(`SYMBOL(${name})`);
  }

  /** `OFFSET(type.member)`. */
  offset(typeMember: string): number | undefined {
    return this.decimal(`OFFSET(${typeMember})`);
  }

  /** `SIZE(type)`. */
  size(type: string): number | undefined {
    return this.decimal(`SIZE(${type})`);
  }

  /** `LENGTH(name)`. */
  length(name: string): number | undefined {
    return this.decimal(`LENGTH(${name})`);
  }

  /** `NUMBER(name)` (signed decimal). */
  number(name: string): bigint | undefined {
    const v = this.get(`NUMBER(${name})`);
    return v !== undefined && /^-?\d+$/.test(v) ? BigInt(v) : undefined;
  }

  private decimal(key: string): number | undefined {
    const v = this.get(key);
    return v !== undefined && /^-?\d+$/.test(v) ? Number(v) : undefined;
  }

  private hex(key: string): bigint | undefined {
    const v = this.get(key);
    return v !== undefined && /^(0x)?[0-9a-f]+$/i.test(v) ? BigInt(v.startsWith('0x') ? v : `0x${v}`) : undefined;
  }
}
