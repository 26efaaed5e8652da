// `edgenn demo`: the README's first command. With no setup and no files, shows learning in a few
// seconds on a Raspberry-Pi-class machine: (1) Rosenblatt's perceptron learns AND and OR and
// fails on XOR, (2) a 2-2-1 sigmoid MLP learns XOR by backprop, (3) an MLP learns a built-in
// spiral with Adam, with the arena report and training-health signals, (4) a device agent serving,
// fine-tuning and reporting to its fleet over MQTT through an in-process broker. Each part lives in
// tools/cli/demo/; add a part to PARTS. Exit code 1 if a part did not learn what it shows.
import { choiceFlag, type CommandSpec, type ParsedArgs } from '../args.js';
import type { CliIo, Command } from '../command.js';
import type { DemoOut, DemoPart } from '../demo/part.js';
import { perceptronPart } from '../demo/perceptron-part.js';
import { xorPart } from '../demo/xor-part.js';
import { spiralPart } from '../demo/spiral-part.js';
import { fleetPart } from '../demo/fleet-part.js';

export const DEMO_PARTS: readonly DemoPart[] = [perceptronPart, xorPart, spiralPart, fleetPart];

const spec: CommandSpec = {
  name: 'demo',
  summary: 'watch small networks learn (perceptron, XOR by backprop, a spiral with Adam) and a device agent report over MQTT',
  usage: '[--only NAME]',
  description: 'Needs no files: every dataset is built in and seeded, so each run prints the same numbers.',
  positionals: [],
  flags: [
    { name: 'only', kind: 'value', meta: 'NAME', help: `run one part: ${DEMO_PARTS.map((p) => p.name).join(', ')}` },
  ],
  examples: ['edgenn demo', 'edgenn demo --only xor'],
};

/** Runs the parts on out; returns the exit code (0 when every part did what it shows). */
export async function runDemo(out: DemoOut, parts: readonly DemoPart[] = DEMO_PARTS): Promise<number> {
  const t0 = performance.now();
  out.line('edgenn demo: small neural networks learning, each from one preallocated arena');
  let ok = true;
  for (const [i, p] of parts.entries()) {
    const t = performance.now();
    out.line('');
    out.line(`${i + 1}. ${p.title}`);
    const r = await p.run(out);
    out.line(`   -> ${r.summary} (${((performance.now() - t) / 1000).toFixed(2)} s)${r.ok ? '' : '  [UNEXPECTED]'}`);
    ok &&= r.ok;
  }
  out.line('');
  out.line(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s. Next: edgenn train --help, edgenn run --help`);
  return ok ? 0 : 1;
}

async function run(args: ParsedArgs, io: CliIo): Promise<number> {
  const only = choiceFlag(args, 'only', DEMO_PARTS.map((p) => p.name));
  const parts = only === undefined ? DEMO_PARTS : DEMO_PARTS.filter((p) => p.name === only);
  return runDemo({ line: (s = '') => io.stdout(`${s}\n`), isTTY: io.isTTY }, parts);
}

export const demoCommand: Command = { spec, run };
