#!/usr/bin/env node
// The `edgenn` command line: every command of commands/index.ts, dispatched by dispatch.ts (exit
// codes, help, version). `runCli(argv, io)` does all the work in-process (tests call it with a
// captured CliIo); the line at the bottom binds it to the real process when this file is the entry
// point. Commands are loaded on first use (commands/index.ts), so `edgenn run` does not evaluate
// the MQTT client and `edgenn agent` does not evaluate the ONNX exporter.
//
// Exit codes: 0 success; 2 bad input (an EdgennError), one line `edgenn <cmd>: <message>`;
// 1 an unexpected error (a bug), with its stack only under EDGENN_DEBUG=1.
import type { CliIo } from './command.js';
import { COMMANDS } from './commands/index.js';
import { dispatch, isEntryPoint, runAsProcess, type CommandSource } from './dispatch.js';

export type { CliIo } from './command.js';
export { edgennVersion, type CommandSource, type LazyCommand } from './dispatch.js';

/** Runs one CLI invocation (argv without `node main.js`); resolves to the exit code. */
export function runCli(argv: readonly string[], io: CliIo, commands: readonly CommandSource[] = COMMANDS): Promise<number> {
  return dispatch(argv, io, commands);
}

if (isEntryPoint(import.meta.url)) runAsProcess(COMMANDS);
