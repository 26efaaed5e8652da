#!/usr/bin/env node
// The `edgenn` command line: dispatch to one command of commands/index.ts, map errors to exit
// codes. `runCli(argv, io)` does all the work in-process (tests call it with a captured CliIo);
// the few lines at the bottom bind it to the real process when this file is the entry point.
//
// Exit codes: 0 success; 2 bad input (an EdgennError: usage errors, missing files, wrong shapes,
// NaN in data, labels out of range ...), printed as one line `edgenn <cmd>: <message>`;
// 1 an unexpected error (a bug), with its stack only under EDGENN_DEBUG=1.
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EdgennError } from '../../runtime/errors.js';
import { formatHelp, parseArgs } from './args.js';
import type { CliIo, Command } from './command.js';
import { COMMANDS } from './commands/index.js';

export type { CliIo } from './command.js';

/** The version field of edgenn's package.json (found by walking up from this file). */
export function edgennVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'edgenn' && typeof pkg.version === 'string') return pkg.version;
    } catch { /* not here */ }
    dir = dirname(dir);
  }
  return 'unknown';
}

function topHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.spec.name.length)) + 2;
  return [
    'usage: edgenn <command> [arguments] [flags]',
    '',
    'Run and train small neural networks from one preallocated arena.',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.spec.name.padEnd(width)}${c.spec.summary}`),
    '',
    'flags:',
    '  --help, -h    show this help (or `edgenn <command> --help` for one command)',
    '  --version     print the edgenn version',
    '',
    'Bad input exits with code 2 and a one-line message; EDGENN_DEBUG=1 prints stacks of unexpected errors.',
  ].join('\n') + '\n';
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

/** Runs one CLI invocation (argv without `node main.js`); resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo, commands: readonly Command[] = COMMANDS): Promise<number> {
  const first = argv[0];
  if (first === undefined) {
    io.stderr(topHelp(commands));
    return 2;
  }
  if (first === '--help' || first === '-h' || (first === 'help' && argv.length === 1)) {
    io.stdout(topHelp(commands));
    return 0;
  }
  if (first === '--version' || first === '-v') {
    io.stdout(`edgenn ${edgennVersion()}\n`);
    return 0;
  }
  const helpFor = first === 'help' ? argv[1]! : null;
  const name = helpFor ?? first;
  const cmd = commands.find((c) => c.spec.name === name);
  if (cmd === undefined) {
    io.stderr(`edgenn: unknown command ${JSON.stringify(name)}; commands: ${commands.map((c) => c.spec.name).join(', ')} (see edgenn --help)\n`);
    return 2;
  }
  if (helpFor !== null) {
    io.stdout(formatHelp(cmd.spec));
    return 0;
  }
  try {
    const args = parseArgs(cmd.spec, argv.slice(1));
    if (args.flags.get('help')?.[0] === 'true') {
      io.stdout(formatHelp(cmd.spec));
      return 0;
    }
    return await cmd.run(args, io);
  } catch (e) {
    if (e instanceof EdgennError) {
      io.stderr(`edgenn ${cmd.spec.name}: ${oneLine(e.message)}\n`);
      if (io.env?.EDGENN_DEBUG === '1' && e.stack !== undefined) io.stderr(`${e.stack}\n`);
      return 2;
    }
    const err = e instanceof Error ? e : new Error(String(e));
    io.stderr(`edgenn ${cmd.spec.name}: unexpected error: ${oneLine(err.message)}` +
      (io.env?.EDGENN_DEBUG === '1' ? `\n${err.stack ?? ''}\n` : ' (set EDGENN_DEBUG=1 for the stack)\n'));
    return 1;
  }
}

function isEntryPoint(): boolean {
  const arg = process.argv[1];
  if (arg === undefined) return false;
  try {
    return realpathSync(arg) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // A closed pipe (`edgenn run m.json x.csv | head`) is not an error of edgenn.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(0); });
  const io: CliIo = {
    stdout: (s) => { process.stdout.write(s); },
    stderr: (s) => { process.stderr.write(s); },
    isTTY: process.stdout.isTTY === true,
    cwd: process.cwd(),
    env: process.env,
  };
  runCli(process.argv.slice(2), io).then(
    (code) => { process.exitCode = code; },
    (e: unknown) => {
      process.stderr.write(`edgenn: unexpected error: ${e instanceof Error ? (process.env.EDGENN_DEBUG === '1' ? e.stack : e.message) : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
