// The contract between the CLI's dispatcher (main.ts) and one command (commands/*.ts): a
// CommandSpec (flags, positionals, help) and a run function over parsed args and a CliIo.
// Commands never touch process.stdout/stderr/exit or process.cwd(): everything goes through
// CliIo, so tests run them in-process and capture the output. Bad input is thrown as an
// EdgennError (exit code 2); the returned number is the exit code otherwise.
import { isAbsolute, resolve } from 'node:path';
import type { CommandSpec, ParsedArgs } from './args.js';

export interface CliIo {
  stdout(s: string): void;
  stderr(s: string): void;
  /** progress lines redrawn with '\r' when true; one line per epoch otherwise */
  readonly isTTY: boolean;
  /** relative paths in arguments resolve against this directory */
  readonly cwd: string;
  /** environment (EDGENN_DEBUG=1 prints stacks of unexpected errors); default: none */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface Command {
  readonly spec: CommandSpec;
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}

/** A path argument resolved against io.cwd. */
export function resolvePath(io: CliIo, p: string): string {
  return isAbsolute(p) ? p : resolve(io.cwd, p);
}
