// Helpers for in-process CLI tests: a captured CliIo, a temp folder, tiny model and data files.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../tools/cli/main.js';
import type { CliIo } from '../../../tools/cli/command.js';
import type { Command } from '../../../tools/cli/command.js';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function cli(argv: readonly string[], cwd: string, opts: { isTTY?: boolean; env?: Record<string, string>; commands?: readonly Command[] } = {}): Promise<CliRun> {
  let stdout = '', stderr = '';
  const io: CliIo = {
    stdout: (s) => { stdout += s; }, stderr: (s) => { stderr += s; },
    isTTY: opts.isTTY ?? false, cwd, env: opts.env ?? {},
  };
  const code = opts.commands !== undefined ? await runCli(argv, io, opts.commands) : await runCli(argv, io);
  return { code, stdout, stderr };
}

export function tempDir(prefix: string): { dir: string; path: (name: string) => string; write: (name: string, data: string | Uint8Array) => string; read: (name: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const path = (name: string): string => join(dir, name);
  return {
    dir, path,
    write: (name, data) => { writeFileSync(path(name), data); return path(name); },
    read: (name) => readFileSync(path(name), 'utf8'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A JSON model: input [inDims], the given layers, seed 0. */
export function modelJson(inDims: number[], layers: unknown[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ format: 'edgenn-model', version: 1, input: { name: 'input', dims: inDims }, layers, seed: 0, ...extra });
}

/** Seeded, deterministic two-feature points: class = which of 3 sectors the angle falls in. */
export function threeClassRows(n: number): { x: number[][]; y: number[] } {
  const x: number[][] = [], y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    const a = (c * 2 * Math.PI) / 3 + ((i * 7) % 5 - 2) * 0.1;
    const r = 0.5 + ((i * 3) % 4) * 0.15;
    x.push([+(r * Math.cos(a)).toFixed(4), +(r * Math.sin(a)).toFixed(4)]);
    y.push(c);
  }
  return { x, y };
}

export function csv(header: string[], rows: number[][]): string {
  return [header.join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n';
}
