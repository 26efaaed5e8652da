// `edgenn export <model> --out FILE.onnx [--opset 13|17]`: any model edgenn loads (a JSON model, an
// ONNX file) written as ONNX with its weights: Gemm / Conv nodes with their attributes, named
// inputs and outputs, a dynamic 'batch' first dim, producer edgenn (importers/onnx/export.ts).
import { EdgennError } from '../../../runtime/errors.js';
import { exportOnnxBytes } from '../../../importers/onnx/export.js';
import { choiceFlag, requiredString, type CommandSpec, type ParsedArgs } from '../args.js';
import { resolvePath, type CliIo, type Command } from '../command.js';
import { loadModelFile, MODEL_EXTENSIONS } from '../load-model.js';
import { writeFileAtomic } from '../atomic-write.js';

const spec: CommandSpec = {
  name: 'export',
  summary: 'write a model as ONNX (opset 13 or 17)',
  usage: '<model> --out FILE.onnx [--opset 13|17]',
  description: `<model> is a model file (${MODEL_EXTENSIONS.join(', ')}). The ONNX file gets IR version 7 (opset 13) or 8 (opset 17), ` +
    'a dynamic batch axis named "batch" and producer_name "edgenn".',
  positionals: [{ name: 'model', help: 'the model file', required: true }],
  flags: [
    { name: 'out', kind: 'value', meta: 'FILE', help: 'the .onnx file to write (atomically)' },
    { name: 'opset', kind: 'value', meta: 'N', help: '13 or 17 (default 17)' },
  ],
  examples: ['edgenn export model.json --out model.onnx', 'edgenn export trained.onnx --out model13.onnx --opset 13'],
};

async function run(args: ParsedArgs, io: CliIo): Promise<number> {
  const out = resolvePath(io, requiredString(args, 'out', 'FILE'));
  if (!out.toLowerCase().endsWith('.onnx')) throw new EdgennError('ARG', '--out must name an .onnx file', { actual: out });
  const opset = Number(choiceFlag(args, 'opset', ['13', '17'] as const) ?? '17') as 13 | 17;
  const loaded = loadModelFile(resolvePath(io, args.positionals[0]!));
  const bytes = exportOnnxBytes(loaded.meta.kind === 'onnx' ? loaded.meta.imported : loaded.graph, { opset });
  writeFileAtomic(out, bytes);
  io.stdout(`wrote ${out} (${bytes.length} bytes, opset ${opset})\n`);
  return 0;
}

export const exportCommand: Command = { spec, run };
