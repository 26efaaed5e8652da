// `edgenn conformance DIR [--verbose] [--json]`: runs every ONNX backend-test folder under DIR
// (model.onnx + test_data_set_N/*.pb; DIR itself may be one) through edgenn and compares with the
// expected outputs as the upstream runner does (importers/onnx/conformance.ts). Prints failures
// (and skips with --verbose) with their reasons and pass/fail/skip per op. Exit code 1 when a
// case fails.
import { runConformance, tally } from '../../../importers/onnx/conformance.js';
import { boolFlag, type CommandSpec, type ParsedArgs } from '../args.js';
import { resolvePath, type CliIo, type Command } from '../command.js';

const spec: CommandSpec = {
  name: 'conformance',
  summary: 'run ONNX backend-test folders (model.onnx + test_data_set_N) and compare outputs',
  usage: 'DIR [--verbose] [--json]',
  description: 'Compares like the upstream ONNX runner: same dtype and shape, rtol 1e-3, atol 1e-7 for floats, exact for integers. ' +
    'Cases edgenn refuses for a stated reason (type, op, attribute) are skipped. Exit code 1 when a case fails.',
  positionals: [{ name: 'DIR', help: 'a folder of test cases, or one case folder', required: true }],
  flags: [
    { name: 'verbose', kind: 'boolean', help: 'also list passing and skipped cases' },
    { name: 'json', kind: 'boolean', help: 'print every result as JSON' },
  ],
  examples: ['edgenn conformance onnx/backend/test/data/node', 'edgenn conformance my-model-case --verbose'],
};

async function run(args: ParsedArgs, io: CliIo): Promise<number> {
  const results = runConformance(resolvePath(io, args.positionals[0]!));
  const fails = results.filter((r) => r.status === 'fail').length;
  if (boolFlag(args, 'json')) {
    io.stdout(`${JSON.stringify(results.map((r) => ({ name: r.name, ops: r.opTypes, status: r.status, reason: r.reason })), null, 2)}\n`);
    return fails > 0 ? 1 : 0;
  }
  const verbose = boolFlag(args, 'verbose');
  for (const r of results) {
    if (r.status === 'fail' || (verbose && r.status === 'skip')) io.stdout(`${r.status.toUpperCase()} ${r.name}: ${r.reason}\n`);
    else if (verbose) io.stdout(`PASS ${r.name}\n`);
  }
  for (const [op, t] of tally(results)) io.stdout(`  ${op}: ${t.pass}/${t.pass + t.fail} pass${t.skip > 0 ? `, ${t.skip} skipped` : ''}\n`);
  const pass = results.filter((r) => r.status === 'pass').length;
  io.stdout(`${pass} pass, ${fails} fail, ${results.length - pass - fails} skipped of ${results.length} cases\n`);
  return fails > 0 ? 1 : 0;
}

export const conformanceCommand: Command = { spec, run };
