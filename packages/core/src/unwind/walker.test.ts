import test from 'ava';
import { buildFixture } from '@stackdb/test-support';
import { RegisterSet } from '../arch/register-set.js';
import { ProgramSymbols } from '../symbols/program.js';
import { FrameScope } from '../values/frame-scope.js';
import { formatValue } from '../values/format.js';
import { ImageTarget } from '../values/test-support/image-target.js';
import type { Frame, StepResult } from './frame.js';
import type { FrameStepper } from './stepper.js';
import { standardWalker, Walker } from './walker.js';

/*
 * The walker's contract on an in-memory target: frames from synthetic stacks
 * over a real executable image (test-support/values.c, non-PIE), through the
 * shipped steppers and one a user adds.
 */

const STACK = 0x7f0000n;
const fixture = () => buildFixture({ name: 'values', sources: ['packages/core/src/values/test-support/values.c'], flags: ['-g', '-O0', '-no-pie'] });

function stack(words: Record<number, bigint>): Uint8Array {
  const bytes = new Uint8Array(0x1000);
  const dv = new DataView(bytes.buffer);
  for (const [off, v] of Object.entries(words)) dv.setBigUint64(Number(off), v, true);
  return bytes;
}

async function setup(): Promise<{ target: ImageTarget; program: ProgramSymbols; square: bigint; afterCall: bigint }> {
  const target = new ImageTarget(fixture());
  await target.open();
  const program = new ProgramSymbols(target);
  const [square] = await program.lookupSymbol('square');
  const [main] = await program.lookupSymbol('main');
  // The return address of main's call to square: after the `e8 rel32` that targets it.
  const code = await target.read(main!.start, Number(main!.size));
  let afterCall = 0n;
  for (let i = 0; i + 5 <= code.length; i++) {
    const rel = new DataView(code.buffer, code.byteOffset + i + 1, 4).getInt32(0, true);
    if (code[i] === 0xe8 && main!.start + BigInt(i + 5 + rel) === square!.start) afterCall = main!.start + BigInt(i + 5);
  }
  return { target, program, square: square!.start, afterCall };
}

/** A user's stepper for frames of a made-up runtime: code in [0x10000000, 0x10001000), frame records [caller pc, caller sp] at sp. */
class GreenStepper implements FrameStepper {
  readonly name = 'green';
  readonly priority = 150;
  calls = 0;
  claims(frame: Frame): boolean {
    return frame.pc >= 0x10000000n && frame.pc < 0x10001000n;
  }
  async getCallerFrame(frame: Frame): Promise<StepResult> {
    this.calls++;
    const target = frame.thread.target;
    const pc = await target.readPointer(frame.sp);
    const sp = await target.readPointer(frame.sp + 8n);
    if (pc === 0n) return { status: 'bottom' };
    const regs = new RegisterSet(frame.registers.arch);
    regs.set('rip', pc);
    regs.set('rsp', sp);
    return { status: 'success', registers: regs, cfa: frame.sp + 16n, returnAddress: { kind: 'memory', address: frame.sp } };
  }
}

test('a stepper a user adds takes the frames it claims, in priority order, and the walk ends at the bottom it reports', async (t) => {
  const target = new ImageTarget();
  await target.open();
  target.map(STACK, stack({ 0x0: 0x10000020n, 0x8: STACK + 0x100n, 0x100: 0x10000030n, 0x108: STACK + 0x200n, 0x200: 0n }));
  target.setThread(1, { rip: 0x10000010n, rsp: STACK });
  const green = new GreenStepper();
  const walker = new Walker(target);
  walker.addStepper(green);
  t.deepEqual(walker.getSteppers().map((s) => s.priority), [...walker.getSteppers().map((s) => s.priority)].sort((a, b) => a - b));
  t.true(walker.getSteppers().indexOf(green) < walker.getSteppers().findIndex((s) => s.name === 'frame-pointer'));
  const [thread] = await walker.getAvailableThreads();
  const st = await walker.walkStack(thread!);
  t.is(st.end, 'bottom');
  t.deepEqual(st.frames.map((f) => [f.pc, f.sp, f.stepper]), [[0x10000010n, STACK, 'thread'], [0x10000020n, STACK + 0x100n, 'green'], [0x10000030n, STACK + 0x200n, 'green']]);
  t.deepEqual(st.frames[1]!.returnAddress, { kind: 'memory', address: STACK });
  t.is(st.frames[0]!.cfa, STACK + 16n);
  t.true(st.frames[0]!.init.exactPc);
  t.false(st.frames[1]!.init.exactPc);
  t.is(st.frames[1]!.lookupPc, 0x1000001fn);
  // One frame at a time, and from a frame.
  const f0 = await walker.getInitialFrame(thread!);
  const one = await walker.walkSingleFrame(f0);
  t.true('frame' in one && one.frame.pc === 0x10000020n);
  const rest = await walker.walkStackFromFrame('frame' in one ? one.frame : f0);
  t.is(rest.frames.length, 2);
  // A depth limit says more frames follow only when they do.
  t.is((await walker.walkStack(thread!, { maxDepth: 2 })).end, 'depth-limit');
  t.is((await walker.walkStack(thread!, { maxDepth: 3 })).end, 'bottom');
});

test('a stepper that fails or does not move up the stack passes the frame on; the walk ends with the reason when no stepper can', async (t) => {
  const target = new ImageTarget();
  await target.open();
  target.map(STACK, stack({}));
  target.setThread(1, { rip: 0x10000010n, rsp: STACK + 0x80n, rbp: 0n });
  const broken: FrameStepper = { name: 'broken', priority: 10, getCallerFrame: async () => { throw new Error('boom'); } };
  const stuck: FrameStepper = {
    name: 'stuck', priority: 20,
    getCallerFrame: async (f) => ({ status: 'success', registers: new RegisterSet(f.registers.arch, [['rip', 0x10000040n], ['rsp', f.sp]]), returnAddress: { kind: 'thread' } }),
  };
  const walker = new Walker(target, { steppers: [broken, stuck], defaults: false });
  const st = await walker.walkStack(await target.thread(1));
  t.is(st.end, 'error');
  t.is(st.frames.length, 1);
  t.regex(st.error!, /^stuck: the stack does not progress/);
  const alone = new Walker(target, { steppers: [broken], defaults: false });
  t.is((await alone.walkStack(await target.thread(1))).error, 'broken: boom');
});

test('DWARF CFI walks a frame of the executable image into its caller, where the return address of 0 ends the stack', async (t) => {
  const { target, program, square, afterCall } = await setup();
  const rbp = STACK + 0x100n;
  // square after `push %rbp; mov %rsp,%rbp`: [rbp] = main's rbp, [rbp+8] = return into main; main's own return address is 0.
  target.map(STACK, stack({ 0x100: STACK + 0x200n, 0x108: afterCall, 0x208: 0n }));
  target.setThread(1, { rip: square + 7n, rsp: rbp, rbp });
  const st = await standardWalker(target, program).walkStack(await target.thread(1));
  t.is(st.end, 'bottom');
  t.deepEqual(st.frames.map((f) => f.stepper), ['thread', 'dwarf-cfi']);
  t.is(st.frames[1]!.pc, afterCall);
  t.is(st.frames[1]!.sp, rbp + 16n);
  t.is(st.frames[1]!.registers.get('rbp'), STACK + 0x200n, 'the caller\'s rbp, restored from where CFI says it was saved');
  t.is(st.frames[0]!.cfa, rbp + 16n);
  t.is((await program.symbolAt(st.frames[1]!.lookupPc))?.name, 'main');
});

test('without unwind information, the frame-pointer chain and then the heuristic scan find callers', async (t) => {
  const { target, afterCall } = await setup();
  // Code outside every module: no CFI. With rbp the frame pointer stepper takes it...
  target.map(STACK, stack({ 0x100: 0n, 0x108: afterCall }));
  target.setThread(1, { rip: 0x9000000n, rsp: STACK + 0x80n, rbp: STACK + 0x100n });
  const walker = new Walker(target);
  const fp = await walker.walkSingleFrame(await walker.getInitialFrame(await target.thread(1)));
  t.true('frame' in fp && fp.frame.stepper === 'frame-pointer' && fp.frame.pc === afterCall);
  // ...without it, the scanner finds the word that follows a call instruction.
  target.setThread(2, { rip: 0x9000000n, rsp: STACK + 0x80n, rbp: 0n });
  const scan = await walker.walkSingleFrame(await walker.getInitialFrame(await target.thread(2)));
  t.true('frame' in scan && scan.frame.stepper === 'scan (heuristic)' && scan.frame.pc === afterCall && scan.frame.sp === STACK + 0x110n);
});

test('a frame scope tells a variable in scope, one declared in a block the pc is outside of, and one this frame cannot recover', async (t) => {
  const { target, program } = await setup();
  const df = await program.codeDebugFile((await program.modules())[0]!);
  const [line] = df!.addressesOf('values.c', 100);
  target.map(STACK, stack({ 0x100: 0n, 0x108: 0n }));
  target.setThread(1, { rip: line!.address, rsp: STACK + 0xf0n, rbp: STACK + 0x100n });
  const frame = await new Walker(target).getInitialFrame(await target.thread(1));
  const scope = await FrameScope.create(program, frame, undefined, async () => STACK + 0x110n);
  const [lf] = scope.logicalFrames();
  t.is(lf!.name, 'scoped');
  t.is((await scope.variable('outer', lf!))?.value.status, 'ok');
  const inner = await scope.variable('inner', lf!);
  t.is(inner?.value.status, 'not-in-scope');
  t.is(await formatValue(inner!.value, { target }), '<not in scope>');
  t.is(await scope.variable('nosuch', lf!), undefined);
  // Without the frame's CFA (the unwinder could not compute it) the frame base is unknown.
  const blind = await FrameScope.create(program, frame, undefined, async () => undefined);
  const v = await blind.variable('v', lf!);
  t.is(v?.value.status, 'unavailable');
  t.is(await formatValue(v!.value, { target }), '<unavailable>');
});
