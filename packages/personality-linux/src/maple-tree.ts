import { LinuxPersonalityError } from './errors.js';
import type { KernelMemory } from './kernel.js';

/** `enum maple_type`. */
const MAPLE_DENSE = 0;
const MAPLE_LEAF_64 = 1;
const MAPLE_RANGE_64 = 2;
const MAPLE_ARANGE_64 = 3;
/** Slots per node type (`mt_slots`); a node has one pivot fewer. Dense nodes have 31 slots and no pivots. */
const SLOTS: Readonly<Record<number, number>> = { [MAPLE_DENSE]: 31, [MAPLE_LEAF_64]: 16, [MAPLE_RANGE_64]: 16, [MAPLE_ARANGE_64]: 10 };
const MAX_DEPTH = 32;
const MAX_INDEX = (1n << 64n) - 1n;

/** An encoded maple node (`xa_is_node`): internal (low bits 10) and above the first page. */
function isNode(entry: bigint): boolean {
  return (entry & 3n) === 2n && entry > 4096n;
}

/** One stored entry and the index range it covers. */
export interface MapleEntry {
  readonly first: bigint;
  readonly last: bigint;
  readonly value: bigint;
}

/**
 * Every entry of a maple tree (`struct maple_tree` at `tree`, whose `ma_root`
 * is at `rootOffset`), in index order: how kernels from 6.1 keep a process's VMAs.
 */
export async function mapleEntries(mem: KernelMemory, tree: bigint, rootOffset: number): Promise<MapleEntry[]> {
  const root = await mem.u64(tree + BigInt(rootOffset));
  const out: MapleEntry[] = [];
  if (root === 0n) return out;
  if (!isNode(root)) {
    out.push({ first: 0n, last: 0n, value: root });
    return out;
  }
  await walk(mem, root, 0n, MAX_INDEX, 0, out);
  return out;
}

async function walk(mem: KernelMemory, enode: bigint, min: bigint, max: bigint, depth: number, out: MapleEntry[]): Promise<void> {
  if (depth > MAX_DEPTH) throw new LinuxPersonalityError(`a maple tree is deeper than ${MAX_DEPTH} levels (node 0x${enode.toString(16)})`);
  const node = enode & ~0xffn;
  const type = Number((enode >> 3n) & 0xfn);
  const slots = SLOTS[type];
  if (slots === undefined) throw new LinuxPersonalityError(`maple node 0x${node.toString(16)} has an unknown type ${type}`);
  // Every node type starts with its parent pointer; dense nodes have only slots after it.
  const words = await mem.words(node, 1 + slots + (type === MAPLE_DENSE ? 0 : slots - 1));
  if (type === MAPLE_DENSE) {
    for (let i = 0; i < slots && min + BigInt(i) <= max; i++) {
      const v = words[1 + i]!;
      if (v !== 0n) out.push({ first: min + BigInt(i), last: min + BigInt(i), value: v });
    }
    return;
  }
  const pivots = words.slice(1, slots);
  const slot = words.slice(slots);
  const leaf = type === MAPLE_LEAF_64;
  let first = min;
  for (let i = 0; i < slots; i++) {
    const last = i < slots - 1 ? pivots[i]! : max;
    // A zero pivot after the first slot ends the node's used slots.
    if (i > 0 && i < slots - 1 && last === 0n) break;
    const v = slot[i]!;
    if (v !== 0n) {
      if (!leaf) await walk(mem, v, first, last, depth + 1, out);
      else if ((v & 3n) !== 2n) out.push({ first, last, value: v });
    }
    if (last >= max) break;
    first = last + 1n;
  }
}
