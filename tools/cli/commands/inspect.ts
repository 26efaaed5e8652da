// `edgenn inspect <model.onnx> [--batch N] [--json]`: what an ONNX file holds and what edgenn makes
// of it: IR version, opsets, producer, graph inputs/outputs with shapes and types, op counts,
// parameter count, the arena edgenn would plan for a batch size (inference, and training with
// SGD), which layers train, and every unsupported node. Exit code 1 when some node is
// unsupported (the report is printed anyway), 0 otherwise.
import { wasmSimdSupported } from '../../../runtime/wasm/kernels.js';
import { EdgennError } from '../../../runtime/errors.js';
import { compile } from '../../../runtime/model.js';
import { sizeOf } from '../../../runtime/graph/graph.js';
import { loadModelFile as loadOnnxFile } from '../../../importers/onnx/decode.js';
import { importOnnx, unsupportedNodes, type ImportedModel } from '../../../importers/onnx/import.js';
import { dataTypeName, type OnnxDim, type OnnxValueInfo } from '../../../importers/onnx/model.js';
import { boolFlag, numberFlag, type CommandSpec, type ParsedArgs } from '../args.js';
import { resolvePath, type CliIo, type Command } from '../command.js';

const spec: CommandSpec = {
  name: 'inspect',
  summary: 'describe an ONNX model: I/O, ops, parameters, arena size, trainable layers, unsupported nodes',
  usage: '<model.onnx> [--batch N] [--json]',
  description: 'Prints the model\'s IR version, opsets, producer, inputs and outputs, op counts, parameter count, the arena bytes ' +
    'edgenn plans for a batch of N (inference and SGD training), which layers are trainable and every node edgenn cannot import. ' +
    'Exit code 1 when the model has unsupported nodes.',
  positionals: [{ name: 'model', help: 'an .onnx file', required: true }],
  flags: [
    { name: 'batch', kind: 'value', meta: 'N', help: 'batch size for the arena estimate (default 1)' },
    { name: 'json', kind: 'boolean', help: 'print the report as JSON' },
  ],
  examples: ['edgenn inspect model.onnx --batch 32'],
};

const dims = (s: readonly OnnxDim[] | null): string => (s === null ? '?' : `[${s.map((d) => (d === null ? '?' : String(d))).join(', ')}]`);
const io = (v: OnnxValueInfo) => ({ name: v.name, type: dataTypeName(v.elemType), shape: dims(v.shape) });

async function run(args: ParsedArgs, cio: CliIo): Promise<number> {
  const batch = numberFlag(args, 'batch', { integer: true, min: 1 }) ?? 1;
  const path = resolvePath(cio, args.positionals[0]!);
  const model = loadOnnxFile(path);
  const bad = unsupportedNodes(model);
  const ops: Record<string, number> = {};
  for (const n of model.graph.nodes) ops[n.opType] = (ops[n.opType] ?? 0) + 1;
  let im: ImportedModel | null = null, importError: string | null = null;
  if (bad.length === 0) {
    try { im = importOnnx(model, { file: path }); } catch (e) {
      if (!(e instanceof EdgennError)) throw e;
      importError = e.message;
    }
  }
  const params = im === null ? null : im.graph.values.filter((v) => v.role === 'param');
  const arena = (training: boolean): number | string => {
    if (im === null) return 'n/a';
    try {
      return compile(im.graph, training ? { maxBatch: batch, loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr: 0.01 } } : { maxBatch: batch }).report.totalBytes;
    } catch (e) {
      if (e instanceof EdgennError) return `cannot plan: ${e.message}`;
      throw e;
    }
  };
  const canTrain = im !== null && im.outputs[0]?.batched === true && params !== null && params.length > 0;
  const report = {
    file: path,
    irVersion: model.irVersion,
    opsets: Object.fromEntries(model.opsetImports),
    producer: `${model.producerName}${model.producerVersion !== '' ? ` ${model.producerVersion}` : ''}`,
    inputs: model.graph.inputs.filter((v) => !model.graph.initializers.has(v.name)).map(io),
    outputs: model.graph.outputs.map(io),
    ops,
    nodes: model.graph.nodes.length,
    initializers: model.graph.initializers.size,
    parameters: params === null ? null : params.reduce((p, v) => p + sizeOf(v.dims), 0),
    constants: im === null ? null : im.graph.values.filter((v) => v.role === 'const').reduce((p, v) => p + sizeOf(v.dims), 0),
    batch,
    kernels: wasmSimdSupported() ? 'wasm' : 'js',
    arenaBytes: { inference: arena(false), training: canTrain ? arena(true) : 'n/a (no batched float output or no weights)' },
    layers: im === null ? [] : im.layers.map((l) => ({ node: l.node, op: l.opType, params: l.params, trainable: l.trainable })),
    foldedBatchNorms: im?.foldedBatchNorms ?? 0,
    foldedNodes: im?.foldedNodes ?? 0,
    removedNodes: im?.removedNodes ?? 0,
    unsupported: bad.map((u) => ({ node: u.node, op: u.opType, domain: u.domain, opset: u.opset, reason: u.reason })),
    importError,
  };
  if (boolFlag(args, 'json')) {
    cio.stdout(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const L: string[] = [];
    L.push(`${report.file}`);
    L.push(`  IR version ${report.irVersion}, opsets ${Object.entries(report.opsets).map(([d, v]) => `${d} ${v}`).join(', ')}, producer ${report.producer || '(none)'}`);
    L.push(`  inputs:  ${report.inputs.map((v) => `${v.name} ${v.type} ${v.shape}`).join('; ')}`);
    L.push(`  outputs: ${report.outputs.map((v) => `${v.name} ${v.type} ${v.shape}`).join('; ')}`);
    L.push(`  ${report.nodes} nodes: ${Object.entries(ops).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    if (im !== null) {
      L.push(`  parameters: ${report.parameters} (${params!.length} tensors), constants: ${report.constants} values`);
      L.push(`  import: ${report.foldedBatchNorms} BatchNormalization folded, ${report.foldedNodes} nodes folded to constants, ${report.removedNodes} Identity/Dropout removed`);
      L.push(`  kernels: ${report.kernels === 'wasm' ? 'WebAssembly SIMD (dense, relu, optimizer) + TypeScript' : 'TypeScript (WebAssembly SIMD unavailable here)'}`);
      L.push(`  arena for batch ${batch}: inference ${report.arenaBytes.inference} bytes, training (SGD) ${report.arenaBytes.training}${typeof report.arenaBytes.training === 'number' ? ' bytes' : ''}`);
      L.push(`  trainable layers: ${report.layers.length === 0 ? 'none' : report.layers.map((l) => `${l.node} (${l.op}: ${l.params.join(', ')})`).join('; ')}`);
    }
    if (importError !== null) L.push(`  import error: ${importError}`);
    if (bad.length > 0) {
      L.push(`  unsupported nodes (${bad.length}):`);
      for (const u of bad) L.push(`    ${u.opType} (domain ${u.domain}, opset ${u.opset ?? '?'}) at node ${u.node}: ${u.reason}`);
    } else {
      L.push('  unsupported nodes: none');
    }
    cio.stdout(`${L.join('\n')}\n`);
  }
  return bad.length > 0 || importError !== null ? 1 : 0;
}

export const inspectCommand: Command = { spec, run };
