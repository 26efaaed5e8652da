// The dispatcher shared by the two program entries, tools/cli/main.ts (`edgenn`, every command) and
// tools/cli/agent-main.ts (the device bundle: the agent command only): one argv → one command,
// errors → exit codes, `--help` / `--version`, and the binding to the real process.
//
// Exit codes: 0 success; 2 bad input (an EdgennError: usage errors, missing files, wrong shapes,
// NaN in data, labels out of range ...), printed as one line `edgenn <cmd>: <message>`;
// 1 an unexpected error (a bug), with its stack only under EDGENN_DEBUG=1.
//
// Commands come as loaded `Command`s or as `LazyCommand`s (name now, module on first use): the
// registry (commands/index.ts) is lazy so that `edgenn agent` never evaluates the ONNX exporter,
// the MQTT broker or the trainer's CLI, and so that esbuild (tools/bundle.ts) keeps each command's
// module graph uninitialised until it is imported. Why this is its own file: main.ts runs the CLI
// when it is the entry point, and in a bundle every module shares the bundle's import.meta.url, so
// an agent entry that imported main.ts would start the full CLI too.
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EdgennError } from '../../runtime/errors.js';
import { formatHelp, parseArgs } from './args.js';
import type { CliIo, Command } from './command.js';

/** A registry entry whose module is imported on first use; `spec.name` is known without it. */
export interface LazyCommand {
  readonly spec: { readonly name: string };
  load(): Promise<Command>;
}
export type CommandSource = Command | LazyCommand;

function isLazy(c: CommandSource): c is LazyCommand {
  return 'load' in c;
}

/** The command itself; throws (a bug, exit 1) when a module exports a command of another name. */
async function resolveCommand(c: CommandSource): Promise<Command> {
  if (!isLazy(c)) return c;
  const cmd = await c.load();
  if (cmd.spec.name !== c.spec.name) {
    throw new Error(`command registry: "${c.spec.name}" loaded a command named "${cmd.spec.name}"`);
  }
  return cmd;
}

/** The version field of edgenn's package.json (found by walking up from this file; in a bundle,
 * from the bundle's folder: the device package carries a package.json for this). */
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

function unexpected(io: CliIo, name: string, e: unknown): number {
  const err = e instanceof Error ? e : new Error(String(e));
  io.stderr(`edgenn ${name}: unexpected error: ${oneLine(err.message)}` +
    (io.env?.EDGENN_DEBUG === '1' ? `\n${err.stack ?? ''}\n` : ' (set EDGENN_DEBUG=1 for the stack)\n'));
  return 1;
}

/** Runs one CLI invocation (argv without `node main.js`) over `commands`; resolves to the exit code. */
export async function dispatch(argv: readonly string[], io: CliIo, commands: readonly CommandSource[]): Promise<number> {
  const first = argv[0];
  if (first === undefined || first === '--help' || first === '-h' || (first === 'help' && argv.length === 1)) {
    // the one place every command module is loaded: the summaries live in their specs
    let all: Command[];
    try {
      all = await Promise.all(commands.map(resolveCommand));
    } catch (e) {
      return unexpected(io, 'help', e);
    }
    if (first === undefined) {
      io.stderr(topHelp(all));
      return 2;
    }
    io.stdout(topHelp(all));
    return 0;
  }
  if (first === '--version' || first === '-v') {
    io.stdout(`edgenn ${edgennVersion()}\n`);
    return 0;
  }
  const helpFor = first === 'help' ? argv[1]! : null;
  const name = helpFor ?? first;
  const entry = commands.find((c) => c.spec.name === name);
  if (entry === undefined) {
    io.stderr(`edgenn: unknown command ${JSON.stringify(name)}; commands: ${commands.map((c) => c.spec.name).join(', ')} (see edgenn --help)\n`);
    return 2;
  }
  let cmd: Command;
  try {
    cmd = await resolveCommand(entry);
  } catch (e) {
    return unexpected(io, name, e);
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
    return unexpected(io, cmd.spec.name, e);
  }
}

/** True when the file at `moduleUrl` is the script node was started with (not imported, not required). */
export function isEntryPoint(moduleUrl: string): boolean {
  const arg = process.argv[1];
  if (arg === undefined) return false;
  try {
    return realpathSync(arg) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/** Runs `dispatch` on this process's argv, stdout, stderr and environment; sets process.exitCode. */
export function runAsProcess(commands: readonly CommandSource[]): void {
  // A closed pipe (`edgenn run m.json x.csv | head`) is not an error of edgenn.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(0); });
  const io: CliIo = {
    stdout: (s) => { process.stdout.write(s); },
    stderr: (s) => { process.stderr.write(s); },
    isTTY: process.stdout.isTTY === true,
    cwd: process.cwd(),
    env: process.env,
  };
  dispatch(process.argv.slice(2), io, commands).then(
    (code) => { process.exitCode = code; },
    (e: unknown) => {
      process.stderr.write(`edgenn: unexpected error: ${e instanceof Error ? (process.env.EDGENN_DEBUG === '1' ? e.stack : e.message) : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
