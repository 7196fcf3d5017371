import { createRequire } from 'node:module';
import { ElfError } from '../errors.js';
import { ElfFile } from './elf-file.js';

/** Upper bound for a decompressed MiniDebugInfo image (they are a few hundred KB in practice). */
const MAX_MINIDEBUGINFO = 512 * 1024 * 1024;

/**
 * MiniDebugInfo (Fedora's `.gnu_debugdata`): an xz-compressed ELF file that
 * holds the `.symtab` a stripped binary lost (local functions that `.dynsym`
 * lacks). Returns that inner ELF, or undefined when the section is absent.
 */
export async function openMiniDebugInfo(elf: ElfFile): Promise<ElfFile | undefined> {
  if (!elf.hasContents('.gnu_debugdata')) return undefined;
  const packed = elf.sectionData('.gnu_debugdata')!;
  const where = { file: elf.path, section: '.gnu_debugdata' };
  let bytes: Uint8Array;
  try {
    bytes = await xzDecompress(packed);
  } catch (err) {
    if (err instanceof ElfError) throw err;
    throw new ElfError(`cannot decompress MiniDebugInfo: ${(err as Error).message}`, { ...where, cause: err });
  }
  return ElfFile.fromBytes(bytes, `${elf.path}[.gnu_debugdata]`);
}

/** Decompresses an .xz stream held in memory. */
export async function xzDecompress(packed: Uint8Array): Promise<Uint8Array> {
  const input = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(packed);
      controller.close();
    },
  });
  const chunks: Uint8Array[] = [];
  let total = 0;
  // Loaded on first use (it costs several ms to load): few binaries carry MiniDebugInfo.
  const xz = createRequire(import.meta.url)('xz-decompress') as typeof import('xz-decompress');
  const reader = new xz.XzReadableStream(input).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > MAX_MINIDEBUGINFO) {
      await reader.cancel();
      throw new ElfError('MiniDebugInfo decompresses to an implausible size');
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let pos = 0;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}
