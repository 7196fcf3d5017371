import test from 'ava';
import { RspDecoder, checksum, encodePacket, escapeBinary, expandRuns, unescapeBinary, type RspFrame } from './codec.js';

const enc = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const str = (b: Uint8Array) => Buffer.from(b).toString('latin1');

function decodeAll(input: string | Uint8Array, chunks?: number[]): RspFrame[] {
  const d = new RspDecoder();
  const bytes = typeof input === 'string' ? enc(input) : input;
  if (!chunks) return d.push(bytes);
  const out: RspFrame[] = [];
  let at = 0;
  for (const n of chunks) {
    out.push(...d.push(bytes.subarray(at, at + n)));
    at += n;
  }
  out.push(...d.push(bytes.subarray(at)));
  return out;
}

const payloads = (frames: RspFrame[]) => frames.flatMap((f) => (f.type === 'packet' || f.type === 'notification' ? [`${f.type[0]}:${str(f.payload)}`] : [f.type]));

test('encodes packets with the modulo-256 checksum', (t) => {
  t.is(str(encodePacket('OK')), '$OK#9a');
  t.is(str(encodePacket('')), '$#00');
  t.is(str(encodePacket('qSupported')), `$qSupported#${checksum(enc('qSupported')).toString(16).padStart(2, '0')}`);
  t.throws(() => encodePacket('a$b'), { instanceOf: RangeError });
  t.throws(() => encodePacket('a#b'), { instanceOf: RangeError });
});

test('decodes packets, acks, interrupts, notifications and junk', (t) => {
  const note = `%Stop:T05#${checksum(enc('Stop:T05')).toString(16)}`;
  const frames = decodeAll(`+$OK#9a-\x03${note}junk$#00`);
  t.deepEqual(payloads(frames), ['ack', 'p:OK', 'nack', 'interrupt', 'n:Stop:T05', 'junk', 'p:']);
  const junk = frames.find((f) => f.type === 'junk');
  t.is(junk && junk.type === 'junk' ? str(junk.bytes) : '', 'junk');
});

test('checksum digits may be upper case; a bad checksum is reported with both sums', (t) => {
  t.deepEqual(payloads(decodeAll('$OK#9A')), ['p:OK']);
  const [f] = decodeAll('$OK#00');
  t.deepEqual(f, { type: 'bad-checksum', notification: false, expected: 0, actual: 0x9a });
  const [g] = decodeAll('%Stop:T05#01');
  t.is(g?.type === 'bad-checksum' && g.notification, true);
});

test('run-length encoding expands the preceding character n-29 more times', (t) => {
  // "0* " is 0 followed by three more zeros (space is 32, 32 - 29 = 3).
  t.is(str(expandRuns(enc('0* ')) as Uint8Array), '0000');
  t.is(str(expandRuns(enc('a*"b')) as Uint8Array), 'aaaaaab');
  t.is(str(expandRuns(enc('x*~')) as Uint8Array), 'x'.repeat(98));
  const cs = checksum(enc('0* '));
  t.deepEqual(payloads(decodeAll(`$0* #${cs.toString(16).padStart(2, '0')}`)), ['p:0000']);
  t.is(typeof expandRuns(enc('*a')), 'string', 'a run with nothing to repeat');
  t.is(typeof expandRuns(enc('a*')), 'string', 'a run without its count');
  t.is(typeof expandRuns(enc('a*\x10')), 'string', 'a count below 1');
  t.is(typeof expandRuns(enc('a*~'), 50), 'string', 'expansion past the limit');
});

test('malformed frames: bad checksum digits, a packet cut by another, oversize', (t) => {
  t.deepEqual(payloads(decodeAll('$OK#zz$OK#9a')), ['malformed', 'junk', 'p:OK']);
  t.deepEqual(payloads(decodeAll('$abc$OK#9a')), ['malformed', 'p:OK']);
  const d = new RspDecoder({ maxPacket: 8 });
  t.deepEqual(payloads(d.push(enc('$0123456789#00$OK#9a'))), ['malformed', 'junk', 'p:OK']);
  // A bad first checksum digit that is itself a frame start is not lost.
  t.deepEqual(payloads(decodeAll('$OK#+')), ['malformed', 'ack']);
});

test('binary escapes round-trip and only # $ } * are escaped', (t) => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const esc = escapeBinary(all);
  t.is(esc.length, 256 + 4);
  for (const b of [0x23, 0x24, 0x2a]) t.false(esc.includes(b), `raw 0x${b.toString(16)} escaped`);
  t.deepEqual(unescapeBinary(esc), all);
  t.is(unescapeBinary(enc('abc}')), undefined, 'a lone trailing escape');
  t.deepEqual(unescapeBinary(enc('}\x03}\x04}]}\x0a')), Uint8Array.of(0x23, 0x24, 0x7d, 0x2a));
});

// ------------------------------------------------------------------------ fuzz

/** A small deterministic PRNG (mulberry32), so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** Run-length encodes like a stub: runs become `c*n`, never with a count that would be `#` or `$`. */
function rle(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; ) {
    const c = s[i]!;
    let j = i + 1;
    while (j < s.length && s[j] === c) j++;
    out += c;
    let extra = j - i - 1;
    while (extra > 0) {
      let n = Math.min(extra, 97);
      if (n < 3) {
        out += c.repeat(n);
        break;
      }
      if (n + 29 === 0x23 || n + 29 === 0x24) n = 5;
      out += `*${String.fromCharCode(n + 29)}`;
      extra -= n;
    }
    i = j;
  }
  return out;
}

test('fuzz: valid streams decode identically however they are split, with and without run-length encoding', (t) => {
  const rand = rng(1);
  for (let round = 0; round < 300; round++) {
    const packets: string[] = [];
    let wire = '';
    const n = 1 + Math.floor(rand() * 6);
    for (let i = 0; i < n; i++) {
      const len = Math.floor(rand() * 200);
      // Hex-ish text with long runs, as register and memory replies have.
      let p = '';
      while (p.length < len) p += rand() < 0.3 ? '0'.repeat(1 + Math.floor(rand() * 40)) : '0123456789abcdefxOK;:,'[Math.floor(rand() * 22)]!;
      packets.push(p);
      const body = rand() < 0.5 ? rle(p) : p;
      t.is(str(expandRuns(enc(body)) as Uint8Array), p, 'the test encoder is right');
      wire += `$${body}#${checksum(enc(body)).toString(16).padStart(2, '0')}`;
      if (rand() < 0.3) wire += '+';
    }
    const bytes = enc(wire);
    const cuts: number[] = [];
    let left = bytes.length;
    while (left > 0) {
      const c = 1 + Math.floor(rand() * Math.min(left, 17));
      cuts.push(c);
      left -= c;
    }
    const got = decodeAll(bytes, cuts).filter((f) => f.type === 'packet').map((f) => (f.type === 'packet' ? str(f.payload) : ''));
    t.deepEqual(got, packets);
  }
});

test('fuzz: random bytes never throw, never hang, and every frame is typed', (t) => {
  const rand = rng(2);
  const alphabet = '$#%+-*}\x03abc0123456789';
  for (let round = 0; round < 500; round++) {
    const len = Math.floor(rand() * 400);
    const bytes = new Uint8Array(len);
    for (let i = 0; i < len; i++) bytes[i] = rand() < 0.7 ? alphabet.charCodeAt(Math.floor(rand() * alphabet.length)) : Math.floor(rand() * 256);
    const d = new RspDecoder({ maxPacket: 128 });
    const frames: RspFrame[] = [];
    for (let at = 0; at < len; ) {
      const n = 1 + Math.floor(rand() * 32);
      frames.push(...d.push(bytes.subarray(at, at + n)));
      at += n;
    }
    for (const f of frames) t.true(['packet', 'notification', 'ack', 'nack', 'interrupt', 'bad-checksum', 'malformed', 'junk'].includes(f.type));
    for (const f of frames) if (f.type === 'packet') t.true(f.payload.length <= 128);
  }
});

test('fuzz: corrupting one byte of a valid packet never yields a different packet silently', (t) => {
  const rand = rng(3);
  for (let round = 0; round < 400; round++) {
    const p = Array.from({ length: 1 + Math.floor(rand() * 60) }, () => '0123456789abcdef'[Math.floor(rand() * 16)]).join('');
    const wire = enc(str(encodePacket(p)));
    const i = 1 + Math.floor(rand() * (wire.length - 1));
    const before = wire[i]!;
    wire[i] = (before + 1 + Math.floor(rand() * 255)) & 0xff;
    const frames = decodeAll(wire);
    const good = frames.filter((f) => f.type === 'packet').map((f) => (f.type === 'packet' ? str(f.payload) : ''));
    // A single changed byte can only be caught (bad checksum, malformed) or produce no packet at all.
    t.false(good.some((g) => g !== p && g.length === p.length), `byte ${i} changed from ${before}`);
  }
});

test('fuzz: binary escaping round-trips random data', (t) => {
  const rand = rng(4);
  for (let round = 0; round < 300; round++) {
    const data = Uint8Array.from({ length: Math.floor(rand() * 300) }, () => Math.floor(rand() * 256));
    const esc = escapeBinary(data);
    t.false(esc.includes(0x23) || esc.includes(0x24) || esc.includes(0x2a));
    t.deepEqual(unescapeBinary(esc), data);
    const framed = encodePacket(esc);
    const [f] = decodeAll(framed);
    t.is(f?.type, 'packet');
    if (f?.type === 'packet') t.deepEqual(unescapeBinary(f.payload), data);
  }
});
