import fs from 'node:fs';
import path from 'node:path';
import { UsageError, type TargetSpec } from '@stackdb/core';
import { PtraceAttachError } from './errors.js';

/** What to start: the program file, its argv and environment, and stdio redirections. */
export interface LaunchPlan {
  /** Path given to execve (already searched in PATH). */
  readonly file: string;
  readonly argv: readonly string[];
  /** `NAME=VALUE` strings. */
  readonly env: readonly string[];
  /** Stdin from this file (`-I`). */
  readonly stdin?: string;
  /** Stdout to this file (`-O`), truncated. */
  readonly stdout?: string;
  /** Stderr to this file (`-E`), truncated. */
  readonly stderr?: string;
}

/** Attach to a process, launch a program, or adopt a fork child the kernel attached already. */
export type PtraceRequest =
  | { readonly kind: 'attach'; readonly pid: number }
  | { readonly kind: 'launch'; readonly plan: LaunchPlan }
  | { readonly kind: 'adopt'; readonly pid: number };

/** Options for launching without a parsed spec. */
export interface LaunchOptions {
  /** Variables added to (or replacing those of) the debugger's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** The whole environment instead (no inheritance). */
  readonly replaceEnv?: boolean;
  readonly stdin?: string;
  readonly stdout?: string;
  readonly stderr?: string;
}

/**
 * Finds a program like execvp does: names with a slash are used as they are,
 * others are searched in PATH.
 */
export function resolveProgram(name: string, pathVar = process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'): string {
  if (name.includes('/')) return name;
  for (const dir of pathVar.split(':')) {
    const p = path.join(dir || '.', name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      /* not here */
    }
  }
  throw new PtraceAttachError('ERR_EXEC', `cannot execute ${name}: not found in PATH`);
}

/** Builds a launch plan from an argv and options. */
export function launchPlan(argv: readonly string[], opts: LaunchOptions = {}): LaunchPlan {
  if (!argv.length || !argv[0]) throw new UsageError('no program to launch');
  const base: Record<string, string> = opts.replaceEnv ? {} : Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
  const env = { ...base, ...(opts.env ?? {}) };
  return {
    file: resolveProgram(argv[0], env.PATH),
    argv: [...argv],
    env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}),
    ...(opts.stdout !== undefined ? { stdout: opts.stdout } : {}),
    ...(opts.stderr !== undefined ? { stderr: opts.stderr } : {}),
  };
}

function list(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  if (Array.isArray(v)) return v.map(String);
  return String(v).split(',').map((s) => s.trim()).filter(Boolean);
}

/**
 * Turns the driver's options into a request: `-p PID` attaches; `-b FILE`
 * with `--args=A,B` or `-- PROGRAM ARGS` launches, with `-e NAME=VALUE,...`
 * added to the inherited environment and `-I/-O/-E` redirecting stdio.
 */
export function requestFromSpec(spec: Pick<TargetSpec, 'options' | 'common' | 'program'>): PtraceRequest {
  const o = spec.options;
  const pid = o.pid;
  const program = typeof o.program === 'string' ? o.program : undefined;
  const args = list(o.args);
  const envvars = list(o.envvars);
  const vector = spec.program?.length ? spec.program : undefined;
  const c = spec.common;
  const stdio = [['-I', c.inFile], ['-O', c.outFile], ['-E', c.errFile]].filter(([, f]) => f !== undefined).map(([n]) => n!);
  if (pid !== undefined) {
    const n = Number(pid);
    if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`-p: expected a process id, got '${String(pid)}'`);
    const extra = [program !== undefined && '-b', args && '--args', envvars && '-e', vector && '--', ...stdio].filter(Boolean);
    if (extra.length) throw new UsageError(`-p attaches to a running process and cannot be combined with ${extra.join(', ')}`);
    return { kind: 'attach', pid: n };
  }
  if (program !== undefined && vector) throw new UsageError(`give the program either with -b or after --, not both`);
  if (args && !program) throw new UsageError(`--args needs -b PROGRAM (or give the arguments after --)`);
  const argv = vector ? [...vector] : program !== undefined ? [program, ...(args ?? [])] : undefined;
  if (!argv) throw new UsageError('the ptrace driver needs -p PID, -b PROGRAM, or -- PROGRAM [ARGS...]');
  const env: Record<string, string> = {};
  for (const kv of envvars ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`-e: expected NAME=VALUE, got '${kv}'`);
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return {
    kind: 'launch',
    plan: launchPlan(argv, {
      env,
      ...(c.inFile !== undefined ? { stdin: c.inFile } : {}),
      ...(c.outFile !== undefined ? { stdout: c.outFile } : {}),
      ...(c.errFile !== undefined ? { stderr: c.errFile } : {}),
    }),
  };
}
