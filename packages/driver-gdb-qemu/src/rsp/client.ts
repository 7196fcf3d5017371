import { ProtocolError, getLogger } from '@stackdb/core';
import { escapeBinary, escapedLength, unescapeBinary } from './codec.js';
import { RspConnection, type ConnectionOptions } from './connection.js';
import { RSP_ERROR, StubError, UnsupportedPacketError, describeRequest } from './errors.js';
import { bytesToLatin1, concatBytes, fromHex, hexDigit, hexNum, isHex, latin1ToBytes, parseHexInt, textToHex, toHex } from './hex.js';
import { TargetDescriptionError, defaultX86_64Layout, layoutFromDescription, type RegisterLayout } from './register-layout.js';
import { parseStopReply, type StopReply } from './stop-reply.js';
import { formatThreadId, parseThreadId, type ThreadId } from './thread-id.js';
import { connectTransport, type Transport, type TransportOptions } from './transport.js';
import { findAll, parseXml, type XmlElement } from './xml.js';

const log = getLogger('T_GDB');

/** What the stub said it supports (`qSupported`) and what probing found. */
export interface StubFeatures {
  /** Largest packet the stub accepts (and, in practice, sends). */
  readonly packetSize: number;
  /** Every `qSupported` entry: `true`/`false` for `name+`/`name-`, the value for `name=value`. */
  readonly supported: ReadonlyMap<string, string | boolean>;
  /** Acknowledgments were switched off. */
  readonly noAck: boolean;
  /** Thread ids carry process ids (`pPID.TID`); detach and kill name the process. */
  readonly multiprocess: boolean;
  /** The stub says why it stopped at breakpoints (`swbreak`/`hwbreak`). */
  readonly swbreak: boolean;
  readonly hwbreak: boolean;
  /** `vCont` actions the stub accepts (`c`, `C`, `s`, `S`, `t`, `r`); empty when it has no `vCont`. */
  readonly vCont: ReadonlySet<string>;
}

/** One thread as a thread list gives it. */
export interface StubThread {
  readonly id: ThreadId;
  readonly name?: string;
  readonly core?: number;
}

/** A resume action for one thread (or all, when `thread` is absent). */
export interface ResumeAction {
  readonly action: 'c' | 's' | 't';
  /** GDB signal number to deliver (turns `c`/`s` into `C`/`S`). */
  readonly signal?: number;
  readonly thread?: ThreadId;
}

/** Breakpoint and watchpoint types of `Z`/`z` packets. */
export const PointType = {
  Software: 0,
  Hardware: 1,
  WriteWatch: 2,
  ReadWatch: 3,
  AccessWatch: 4,
} as const;
export type PointType = (typeof PointType)[keyof typeof PointType];

/** Register bytes of one thread (`g`): unavailable bytes (sent as `xx`) are flagged. */
export interface RegisterBlock {
  readonly bytes: Uint8Array;
  /** 1 where the stub sent `xx`. */
  readonly unavailable: Uint8Array;
}

/** Options of {@link RspClient.connect}. */
export interface ClientOptions extends ConnectionOptions {
  /** Connection timeout (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** Do not negotiate no-ack mode even when the stub offers it. */
  readonly keepAcks?: boolean;
}

/** What we tell the stub we understand. */
const CLIENT_FEATURES = 'qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+;xmlRegisters=i386';

/**
 * A typed client of one GDB stub: it negotiates features, learns the register
 * layout from the target description, and turns packets into calls. It holds no
 * target state beyond the stub's selected thread; errors are typed
 * (`StubError` for `Exx`, `UnsupportedPacketError` for empty replies,
 * `ProtocolError` for the rest).
 *
 * Single-packet calls (`text`, `ok`, `readMemory`, `writeMemory`, `insertPoint`…)
 * queue their request synchronously, when called: calls made in one synchronous
 * stretch reach the stub contiguously and in order, which is how a mode switch
 * (`Qqemu.PhyMemMode`) and the requests it covers are kept together.
 */
export class RspClient {
  private featuresValue?: StubFeatures;
  private layoutValue?: RegisterLayout;
  private selected = new Map<'g' | 'c', string>();
  /** Per-packet support learned by trying (`X`, `P`, `Z0`…): absent until tried. */
  private readonly probed = new Map<string, boolean>();

  constructor(readonly connection: RspConnection) {}

  /** Connects to a stub and negotiates (see {@link handshake}). */
  static async connect(where: TransportOptions | Transport, opts: ClientOptions = {}): Promise<RspClient> {
    const transport = 'attach' in where ? where : await connectTransport(where, opts.connectTimeoutMs === undefined ? {} : { timeoutMs: opts.connectTimeoutMs });
    const client = new RspClient(new RspConnection(transport, opts));
    try {
      await client.handshake(opts);
    } catch (err) {
      client.close();
      throw err;
    }
    return client;
  }

  /** Where the stub is. */
  get where(): string {
    return this.connection.where;
  }

  get features(): StubFeatures {
    if (!this.featuresValue) throw new ProtocolError(RSP_ERROR.PROTOCOL, 'the RSP client has not negotiated yet');
    return this.featuresValue;
  }

  /** The register layout from the target description (or GDB's default x86-64 one). */
  get layout(): RegisterLayout {
    if (!this.layoutValue) throw new ProtocolError(RSP_ERROR.PROTOCOL, 'the RSP client has not negotiated yet');
    return this.layoutValue;
  }

  /**
   * `qSupported`, then `QStartNoAckMode` when offered, then the target
   * description (following its includes), then `vCont?`.
   */
  async handshake(opts: { keepAcks?: boolean } = {}): Promise<void> {
    const reply = await this.text(CLIENT_FEATURES, { allowEmpty: true });
    const supported = new Map<string, string | boolean>();
    for (const item of reply.split(';')) {
      if (!item) continue;
      const eq = item.indexOf('=');
      if (eq >= 0) supported.set(item.slice(0, eq), item.slice(eq + 1));
      else if (item.endsWith('+') || item.endsWith('-')) supported.set(item.slice(0, -1), item.endsWith('+'));
      else supported.set(item, true);
    }
    const ps = supported.get('PacketSize');
    // GDB's own default when the stub does not say; 400 bytes is what every stub can take.
    const packetSize = typeof ps === 'string' && isHex(ps) ? Math.max(64, parseInt(ps, 16)) : 400;
    let noAck = false;
    if (supported.get('QStartNoAckMode') === true && !opts.keepAcks) {
      if ((await this.text('QStartNoAckMode', { allowEmpty: true })) === 'OK') {
        this.connection.disableAcks();
        noAck = true;
      }
    }
    // gdbserver describes the registers of the selected thread's process: select any thread first.
    await this.text(supported.get('multiprocess') === true ? 'Hgp0.0' : 'Hg0', { allowEmpty: true }).catch((err: unknown) => {
      if (!(err instanceof StubError)) throw err;
    });
    this.layoutValue = await this.readLayout(supported.get('qXfer:features:read') === true);
    let vCont = new Set<string>();
    const v = await this.text('vCont?', { allowEmpty: true });
    if (v.startsWith('vCont')) vCont = new Set(v.split(';').slice(1).filter(Boolean));
    this.featuresValue = {
      packetSize,
      supported,
      noAck,
      multiprocess: supported.get('multiprocess') === true,
      swbreak: supported.get('swbreak') === true,
      hwbreak: supported.get('hwbreak') === true,
      vCont,
    };
    log.debug(2, 'stub at %s: packet size %d, %s, vCont %s, %d registers', this.where, packetSize, noAck ? 'no-ack' : 'acks', [...vCont].join('') || 'none', this.layoutValue.registers.length);
  }

  private async readLayout(hasXml: boolean): Promise<RegisterLayout> {
    if (!hasXml) return defaultX86_64Layout();
    const fetch = async (annex: string): Promise<XmlElement> => {
      const text = Buffer.from(await this.xferRead('features', annex)).toString('utf8');
      const doc = parseXml(text);
      if ('error' in doc) throw new ProtocolError(RSP_ERROR.PROTOCOL, `the GDB stub's target description ${annex} is not XML: ${doc.error}`);
      return doc;
    };
    try {
      return await layoutFromDescription(await fetch('target.xml'), fetch);
    } catch (err) {
      if (err instanceof TargetDescriptionError) throw new ProtocolError(RSP_ERROR.PROTOCOL, `the GDB stub at ${this.where}: ${err.message}`, { cause: err });
      throw err;
    }
  }

  // ------------------------------------------------------------------ requests

  /**
   * Sends a request and returns the reply as text. `Exx` becomes a StubError, an
   * empty reply an UnsupportedPacketError (unless `allowEmpty`).
   */
  async text(payload: string, opts: { allowEmpty?: boolean; timeoutMs?: number; output?: string[] } = {}): Promise<string> {
    return checkReply(payload, bytesToLatin1(await this.connection.request(payload, opts)), opts.allowEmpty ?? false);
  }

  /** Sends a request expecting `OK`. */
  async ok(payload: string | Uint8Array): Promise<void> {
    const what = typeof payload === 'string' ? payload : bytesToLatin1(payload.subarray(0, 48));
    const reply = checkReply(what, bytesToLatin1(await this.connection.request(payload)), false);
    if (reply !== 'OK') throw new ProtocolError(RSP_ERROR.PROTOCOL, `the GDB stub answered ${describeRequest(what)} with ${describeRequest(reply)} instead of OK`);
  }

  /** Formats a thread id for this stub. */
  threadId(id: ThreadId): string {
    return formatThreadId(id, this.features.multiprocess);
  }

  /** Selects the thread for register (`g`) or step/continue (`c`) operations; cached. */
  async selectThread(op: 'g' | 'c', id: ThreadId): Promise<void> {
    const t = this.threadId(id);
    if (this.selected.get(op) === t) return;
    this.selected.delete(op);
    await this.ok(`H${op}${t}`);
    this.selected.set(op, t);
  }

  /** `?`: why the target is stopped now. */
  async haltReason(): Promise<StopReply> {
    const r = await this.text('?');
    // Stubs make the reporting thread the selected one.
    this.selected.delete('g');
    const s = parseStopReply(r);
    if (!s) throw new ProtocolError(RSP_ERROR.PROTOCOL, `the GDB stub answered ? with ${describeRequest(r)}`);
    return s;
  }

  /** The stub's threads: `qXfer:threads:read` (with names) when supported, else `qfThreadInfo`/`qsThreadInfo`. */
  async threads(): Promise<StubThread[]> {
    if (this.features.supported.get('qXfer:threads:read') === true) {
      const doc = parseXml(Buffer.from(await this.xferRead('threads', '')).toString('utf8'));
      if ('error' in doc) throw new ProtocolError(RSP_ERROR.PROTOCOL, `the GDB stub's thread list is not XML: ${doc.error}`);
      const out: StubThread[] = [];
      for (const t of findAll(doc, 'thread')) {
        const id = parseThreadId(t.attrs.id ?? '');
        if (!id) continue;
        const core = t.attrs.core === undefined ? undefined : parseHexInt(t.attrs.core);
        out.push({ id, ...(t.attrs.name ? { name: t.attrs.name } : {}), ...(core === undefined ? {} : { core }) });
      }
      return out;
    }
    const out: StubThread[] = [];
    let r = await this.text('qfThreadInfo');
    while (r.startsWith('m')) {
      for (const part of r.slice(1).split(',')) {
        const id = parseThreadId(part);
        if (!id) throw new ProtocolError(RSP_ERROR.PROTOCOL, `bad thread id ${describeRequest(part)} in a thread list`);
        out.push({ id });
      }
      r = await this.text('qsThreadInfo');
    }
    if (r !== 'l') throw new ProtocolError(RSP_ERROR.PROTOCOL, `the GDB stub ended a thread list with ${describeRequest(r)}`);
    return out;
  }

  /** `g`: all registers of a thread. */
  async readRegisters(id: ThreadId): Promise<RegisterBlock> {
    await this.selectThread('g', id);
    const r = await this.text('g');
    const n = r.length >> 1;
    const bytes = new Uint8Array(n);
    const unavailable = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const hi = hexDigit(r.charCodeAt(2 * i));
      const lo = hexDigit(r.charCodeAt(2 * i + 1));
      if (hi < 0 || lo < 0) {
        if (r[2 * i] === 'x' || r[2 * i + 1] === 'x') unavailable[i] = 1;
        else throw new ProtocolError(RSP_ERROR.PROTOCOL, `the GDB stub sent registers that are not hex (offset ${i})`);
      } else {
        bytes[i] = (hi << 4) | lo;
      }
    }
    return { bytes, unavailable };
  }

  /**
   * `p`: one register of a thread (little-endian bytes); undefined when the stub
   * has no `p` or sends the register as unavailable (`xx…`).
   */
  async readRegister(id: ThreadId, regnum: number): Promise<Uint8Array | undefined> {
    if (this.probed.get('p') === false) return undefined;
    await this.selectThread('g', id);
    let r: string;
    try {
      r = await this.text(`p${hexNum(regnum)}`);
    } catch (err) {
      if (!(err instanceof UnsupportedPacketError)) throw err;
      this.probed.set('p', false);
      return undefined;
    }
    this.probed.set('p', true);
    return fromHex(r);
  }

  /** `G`: writes all registers of a thread. */
  async writeRegisters(id: ThreadId, bytes: Uint8Array): Promise<void> {
    await this.selectThread('g', id);
    await this.ok(`G${toHex(bytes)}`);
  }

  /**
   * `P`: writes one register; returns false when the stub has no `P` (the caller
   * then falls back to `G`).
   */
  async writeRegister(id: ThreadId, regnum: number, bytes: Uint8Array): Promise<boolean> {
    if (this.probed.get('P') === false) return false;
    await this.selectThread('g', id);
    try {
      await this.ok(`P${hexNum(regnum)}=${toHex(bytes)}`);
      this.probed.set('P', true);
      return true;
    } catch (err) {
      if (err instanceof UnsupportedPacketError) {
        this.probed.set('P', false);
        return false;
      }
      throw err;
    }
  }

  /** Largest number of bytes one `m` reply can carry. */
  get maxRead(): number {
    // Hex doubles every byte; leave room for framing.
    return Math.max(16, Math.floor((this.features.packetSize - 32) / 2));
  }

  /**
   * `m`: reads up to `length` (≤ {@link maxRead}) bytes. A stub may return fewer
   * bytes than asked (it could read only that much); an unreadable start is a
   * StubError.
   */
  async readMemory(address: bigint, length: number): Promise<Uint8Array> {
    const r = await this.text(`m${hexNum(address)},${hexNum(length)}`);
    const bytes = fromHex(r);
    if (!bytes || bytes.length > length) throw new ProtocolError(RSP_ERROR.PROTOCOL, `the GDB stub answered a memory read with ${describeRequest(r)}`);
    return bytes;
  }

  /**
   * Writes memory with the binary `X` packet when the stub has it (tried once),
   * else with hex `M`; `data` must fit one packet (see {@link maxWrite}).
   */
  async writeMemory(address: bigint, data: Uint8Array): Promise<void> {
    if (this.probed.get('X') === undefined) await this.binaryWrites();
    if (this.probed.get('X')) {
      const head = latin1ToBytes(`X${hexNum(address)},${hexNum(data.length)}:`);
      const body = escapeBinary(data);
      const packet = new Uint8Array(head.length + body.length);
      packet.set(head);
      packet.set(body, head.length);
      return this.ok(packet);
    }
    return this.ok(`M${hexNum(address)},${hexNum(data.length)}:${toHex(data)}`);
  }

  /**
   * Whether the stub takes binary `X` writes, learned once with an empty write
   * (`X0,0:`, as GDB probes it). After this, {@link writeMemory} queues its
   * request synchronously.
   */
  async binaryWrites(): Promise<boolean> {
    let known = this.probed.get('X');
    if (known === undefined) {
      try {
        known = (await this.text('X0,0:', { allowEmpty: true })) === 'OK';
      } catch (err) {
        // A stub that refuses the empty write still parsed it as X.
        if (!(err instanceof StubError)) throw err;
        known = true;
      }
      this.probed.set('X', known);
    }
    return known;
  }

  /** How many bytes of `data` (from `start`) fit one write packet. */
  maxWrite(data: Uint8Array, start: number): number {
    const room = this.features.packetSize - 40;
    if (this.probed.get('X') === false) return Math.max(1, Math.min(data.length - start, Math.floor(room / 2)));
    // Escapes make binary data variable in size: take as much as fits once escaped.
    let n = Math.min(data.length - start, room);
    while (n > 1 && escapedLength(data.subarray(start, start + n)) > room) n = Math.floor(n * 0.9);
    return Math.max(1, n);
  }

  /**
   * `Z`: inserts a breakpoint or watchpoint. Returns false when the stub does not
   * support that type (an empty reply); throws StubError when it refuses.
   */
  async insertPoint(type: PointType, address: bigint, kind: number): Promise<boolean> {
    const key = `Z${type}`;
    if (this.probed.get(key) === false) return false;
    try {
      await this.ok(`Z${type},${hexNum(address)},${hexNum(kind)}`);
      this.probed.set(key, true);
      return true;
    } catch (err) {
      if (err instanceof UnsupportedPacketError) {
        this.probed.set(key, false);
        return false;
      }
      throw err;
    }
  }

  /** `z`: removes a breakpoint or watchpoint. */
  async removePoint(type: PointType, address: bigint, kind: number): Promise<void> {
    await this.ok(`z${type},${hexNum(address)},${hexNum(kind)}`);
  }

  /** True when a `Z` type is known not to be supported (after a try). */
  pointUnsupported(type: PointType): boolean {
    return this.probed.get(`Z${type}`) === false;
  }

  /**
   * Resumes: `vCont` with per-thread actions when the stub has it, else `Hc` and
   * `c`/`C`/`s`/`S` (which can only name one thread, and resume all with `c`).
   */
  async resume(actions: readonly ResumeAction[]): Promise<void> {
    const f = this.features;
    const usable = actions.every((a) => f.vCont.has(a.signal === undefined ? a.action : a.action.toUpperCase()));
    if (usable && actions.length) {
      const parts = actions.map((a) => {
        const act = a.signal === undefined ? a.action : `${a.action.toUpperCase()}${a.signal.toString(16).padStart(2, '0')}`;
        return a.thread ? `${act}:${this.threadId(a.thread)}` : act;
      });
      this.selected.clear();
      await this.connection.resume(`vCont;${parts.join(';')}`);
      return;
    }
    // Without vCont: a single action; a step names its thread through Hc.
    const step = actions.find((a) => a.action === 's');
    const main = step ?? actions.find((a) => a.signal !== undefined) ?? actions[0] ?? { action: 'c' };
    if (main.action === 't') throw new ProtocolError(RSP_ERROR.UNSUPPORTED, 'the GDB stub has no vCont, so threads cannot be stopped individually');
    // Continuing resumes every thread anyway; only a step must name its thread.
    if (main.thread && main.action === 's') await this.selectThread('c', main.thread);
    const letter = main.signal === undefined ? main.action : `${main.action.toUpperCase()}${main.signal.toString(16).padStart(2, '0')}`;
    this.selected.delete('g');
    await this.connection.resume(letter);
  }

  /** Reads a whole `qXfer` object (`m`/`l` chunks), unescaped. */
  async xferRead(object: string, annex: string): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    let offset = 0;
    const len = Math.max(64, this.featuresValue ? this.featuresValue.packetSize - 16 : 1000);
    for (;;) {
      const req = `qXfer:${object}:read:${annex}:${hexNum(offset)},${hexNum(len)}`;
      const raw = await this.connection.request(req);
      const head = String.fromCharCode(raw[0] ?? 0);
      if (head !== 'm' && head !== 'l') checkReply(req, bytesToLatin1(raw), false);
      if (head !== 'm' && head !== 'l') throw new ProtocolError(RSP_ERROR.PROTOCOL, `the GDB stub answered ${describeRequest(req)} with ${describeRequest(bytesToLatin1(raw))}`);
      const data = unescapeBinary(raw.subarray(1));
      if (!data) throw new ProtocolError(RSP_ERROR.PROTOCOL, `the GDB stub sent a badly escaped reply to ${describeRequest(req)}`);
      chunks.push(data);
      offset += data.length;
      if (head === 'l' || data.length === 0) break;
    }
    return concatBytes(chunks);
  }

  /** `qRcmd`: runs a monitor command and returns its output. */
  async monitor(command: string): Promise<string> {
    const output: string[] = [];
    const r = await this.text(`qRcmd,${textToHex(command)}`, { output });
    if (r !== 'OK') {
      const text = isHex(r) ? Buffer.from(fromHex(r) ?? []).toString('utf8') : undefined;
      if (text === undefined) throw new ProtocolError(RSP_ERROR.PROTOCOL, `the GDB stub answered a monitor command with ${describeRequest(r)}`);
      output.push(text);
    }
    return output.join('');
  }

  /**
   * Reads a whole file on the stub's side through host I/O (`vFile:open`,
   * `pread`, `close`). Throws UnsupportedPacketError when the stub has no host
   * I/O and StubError when the file cannot be opened.
   */
  async readStubFile(path: string, maxBytes = 16 * 1024 * 1024): Promise<Uint8Array> {
    const open = await this.text(`vFile:open:${textToHex(path)},0,0`);
    const fd = parseFileResult(open, 'vFile:open', path);
    const chunks: Uint8Array[] = [];
    let total = 0;
    try {
      const len = Math.max(64, Math.floor((this.features.packetSize - 32) / 2));
      for (;;) {
        const raw = await this.connection.request(`vFile:pread:${hexNum(fd)},${hexNum(len)},${hexNum(total)}`);
        const semi = raw.indexOf(0x3b);
        const head = bytesToLatin1(semi < 0 ? raw : raw.subarray(0, semi));
        const n = parseFileResult(checkReply('vFile:pread', head, false), 'vFile:pread', path);
        if (n === 0) break;
        const data = semi < 0 ? undefined : unescapeBinary(raw.subarray(semi + 1));
        if (!data || data.length !== n) throw new ProtocolError(RSP_ERROR.PROTOCOL, `the GDB stub sent a bad vFile:pread reply for ${path}`);
        chunks.push(data);
        total += n;
        if (total >= maxBytes) break;
      }
    } finally {
      await this.text(`vFile:close:${hexNum(fd)}`).catch(() => undefined);
    }
    return concatBytes(chunks);
  }

  /** `D` (or `D;PID` under multiprocess): lets the target run on. */
  async detach(pid?: number): Promise<void> {
    await this.ok(pid !== undefined && this.features.multiprocess ? `D;${hexNum(pid)}` : 'D');
  }

  /**
   * Kills the target: `vKill;PID` under multiprocess, else `k` (which has no
   * reply the protocol promises; the stub may answer `X`/`W`, `OK` or close).
   */
  async kill(pid?: number): Promise<void> {
    if (pid !== undefined && this.features.multiprocess) {
      try {
        await this.ok(`vKill;${hexNum(pid)}`);
        return;
      } catch (err) {
        if (!(err instanceof UnsupportedPacketError)) throw err;
      }
    }
    try {
      await this.connection.request('k', { timeoutMs: 2000 });
    } catch (err) {
      // The stub may close the connection, or say nothing at all.
      if (!(err instanceof ProtocolError) || (err.code !== RSP_ERROR.CLOSED && err.code !== RSP_ERROR.TIMEOUT)) throw err;
    }
  }

  /**
   * Lets the target run on when the connection is abandoned before a target was
   * opened on it (a helper failed): detaches from every process the stub lists,
   * as best it can, then closes. Closing alone would leave a QEMU machine
   * paused, since QEMU stops it when a client connects.
   */
  async release(): Promise<void> {
    try {
      const pids = new Set((await this.threads()).map((t) => t.id.pid).filter((p): p is number => p !== undefined && p > 0));
      if (pids.size && this.features.multiprocess) for (const pid of pids) await this.detach(pid);
      else await this.detach();
    } catch (err) {
      log.debug(2, 'could not detach from %s before closing: %s', this.where, (err as Error).message);
    } finally {
      this.close();
    }
  }

  /** Closes the connection. */
  close(): void {
    this.connection.close();
  }
}

/** `Exx`/`E.text` → StubError, empty → UnsupportedPacketError; anything else is returned. */
export function checkReply(request: string, reply: string, allowEmpty: boolean): string {
  if (reply === '' && !allowEmpty) throw new UnsupportedPacketError(describeRequest(request));
  if (reply.length === 3 && reply[0] === 'E' && isHex(reply.slice(1))) throw new StubError(describeRequest(request), parseInt(reply.slice(1), 16));
  if (reply.startsWith('E.')) throw new StubError(describeRequest(request), -1, reply.slice(2));
  return reply;
}

/** `F result[,errno]` of host I/O. */
function parseFileResult(reply: string, what: string, path: string): number {
  const m = /^F(-?[0-9a-fA-F]+)(?:,([0-9a-fA-F]+))?/.exec(reply);
  if (!m) throw new ProtocolError(RSP_ERROR.PROTOCOL, `the GDB stub answered ${what} with ${describeRequest(reply)}`);
  const result = parseInt(m[1]!, 16);
  if (result < 0) throw new StubError(`${what} ${path}`, m[2] ? parseInt(m[2], 16) : -1, `errno ${m[2] ? parseInt(m[2], 16) : '?'}`);
  return result;
}
