// Test helpers for the bundle tests: spawn a process with bounded time and captured output, run
// a command under the emulated Pi's Node 18 (tools/pi/pi-node.sh), compare float arrays across
// architectures. Not a test itself.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { findRepoRoot } from '../../../tools/bundle.js';

export const REPO = findRepoRoot();
export const PI_NODE_SH = path.join(REPO, 'tools/pi/pi-node.sh');
/** Where the emulated roots are cached between runs (gitignored); EDGENN_PI_CACHE overrides. */
export const PI_CACHE = process.env.EDGENN_PI_CACHE ?? path.join(REPO, '.cache');
export const FIXTURES = path.join(REPO, 'test/tools/bundle/fixtures');

export type PiArch = 'arm64' | 'armhf';
/** A root of tools/pi/pi-node.sh: an emulated Pi architecture, or 'amd64' (the same Debian nodejs
 * 18 package for x86-64, run natively: for measuring memory, which qemu would distort). */
export type PiRootArch = PiArch | 'amd64';

export interface Spawned {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** ms from spawn to the first stdout bytes (the first result), NaN when there were none */
  readonly firstStdoutMs: number;
  readonly totalMs: number;
}

/** Runs a command to its end (SIGKILL after timeoutMs). Never throws for a non-zero exit. */
export function spawnCapture(cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let first = NaN;
    const child = spawn(cmd, args, { cwd: opts.cwd ?? REPO, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => { if (Number.isNaN(first)) first = performance.now() - t0; out.push(b); });
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.once('error', (e) => { clearTimeout(timer); reject(e); });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code, signal, firstStdoutMs: first, totalMs: performance.now() - t0,
        stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

/** The root (Debian bookworm's nodejs and its libraries) of one architecture. */
export function piRoot(arch: PiRootArch): string {
  return path.join(PI_CACHE, `pi-${arch}`);
}

/** The command that runs Debian bookworm's Node 18 for `arch` (its root is built on first use):
 * `node ARGS` becomes `[cmd, [...args, ...ARGS]]` with `env`. For amd64 the process exec's its way
 * to node, so the spawned pid is node's own (its /proc/<pid>/status is node's memory). */
export function piNodeCommand(arch: PiRootArch): { cmd: string; args: string[]; env: NodeJS.ProcessEnv } {
  return { cmd: 'bash', args: [PI_NODE_SH, piRoot(arch)], env: { ...process.env, ARCH: arch } };
}

/** node <args> under Debian bookworm's Node 18 for `arch` (the root is built on first use). */
export function piNode(arch: PiRootArch, args: readonly string[], timeoutMs: number, cwd?: string): Promise<Spawned> {
  return spawnCapture('bash', [PI_NODE_SH, piRoot(arch), ...args], {
    timeoutMs, env: { ...process.env, ARCH: arch }, ...(cwd !== undefined ? { cwd } : {}),
  });
}

/** Throws a readable error unless the process exited with code 0. */
export function expectOk(what: string, r: Spawned): Spawned {
  if (r.code !== 0) {
    throw new Error(`${what} failed (exit ${r.code ?? r.signal}, ${r.totalMs.toFixed(0)} ms):\n${r.stderr.trim() || '(no stderr)'}\n${r.stdout.slice(0, 2000)}`);
  }
  return r;
}

/** Largest |a - b| / (atol + rtol * |b|) over two arrays (> 1 means out of tolerance), with the
 * largest absolute difference, for the message. Lengths must match. */
export function closeness(a: ArrayLike<number>, b: ArrayLike<number>, atol: number, rtol: number): { worst: number; maxAbs: number; at: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let worst = 0, maxAbs = 0, at = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= Number.MAX_VALUE)) return { worst: Infinity, maxAbs: Infinity, at: i }; // NaN or Inf
    const r = d / (atol + rtol * Math.abs(b[i]!));
    if (r > worst) { worst = r; at = i; }
    if (d > maxAbs) maxAbs = d;
  }
  return { worst, maxAbs, at };
}
