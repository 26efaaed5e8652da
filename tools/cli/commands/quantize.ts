// `edgenn quantize <model> --calibration FILE [--out FILE.onnx] ...`: post-training quantization.
// The model's dense/conv layers get fake-quant sites (runtime/quant/qat.ts prepareQat, min-max
// observers), the observers see the calibration data (no training), and the model is converted
// to int8 (runtime/quant/convert.ts: int8 weights as bytes, integer kernels) and written as a QDQ
// ONNX model (opset 13) that onnxruntime runs. A model that is already quantized (a QDQ ONNX file,
// e.g. from `edgenn train --qat --out model.onnx`) is converted with its own qparams and needs no
// calibration. With labels it prints the accuracy of the float and the int8 model; it always
// prints the weight and arena bytes of both.
// Exit codes: 0 written; 2 bad input (nothing written).
import { EdgennError } from '../../../runtime/errors.js';
import { compile, type Model } from '../../../runtime/model.js';
import { Op, type Graph } from '../../../runtime/graph/graph.js';
import { prepareQat, calibrate, type QatConfig } from '../../../runtime/quant/qat.js';
import { convertToInt8, convertGraph, weightBytes } from '../../../runtime/quant/convert.js';
import { qdqToQat } from '../../../importers/onnx/qdq.js';
import { exportOnnxBytes } from '../../../importers/onnx/export.js';
import { checkClassLabels, loadDataFile, loadLabelsFile } from '../../../importers/data/index.js';
import { boolFlag, choiceFlag, numberFlag, stringFlag, usageError, type CommandSpec, type ParsedArgs } from '../args.js';
import { resolvePath, type CliIo, type Command } from '../command.js';
import { loadModelFile, MODEL_EXTENSIONS } from '../load-model.js';
import { writeFileAtomic } from '../atomic-write.js';
import { graphInputs, graphOutputs, rowsFor } from '../shapes.js';

const SCHEMES = ['uint8', 'int8'] as const;
const OBSERVERS = ['minmax', 'moving-average'] as const;

const spec: CommandSpec = {
  name: 'quantize',
  summary: 'post-training int8 quantization: calibrate, convert, write a QDQ ONNX model',
  usage: '<model> --calibration FILE [--out FILE.onnx] [--per-channel] [--scheme uint8|int8] [--bits N] [--labels FILE] [flags]',
  description:
    `<model> is a model file (${MODEL_EXTENSIONS.join(', ')}). The calibration file (.csv, .npy, .json: [N, ...input dims]) ` +
    'is run through the model with min-max observers on every dense/conv layer\'s weights, inputs and outputs; the int8 model ' +
    '(int8 weights, int32 biases, uint8 or int8 activations, integer accumulation, fixed-point requantization) is written as ' +
    'QuantizeLinear/DequantizeLinear ONNX (opset 13). A QDQ ONNX model (e.g. from `edgenn train --qat --out m.onnx`) keeps its ' +
    'own quantization parameters and needs no calibration. With --labels (class indices for the --data rows, default the ' +
    'calibration rows) the accuracy of the float and int8 models is printed.',
  positionals: [{ name: 'model', help: 'the model file to quantize', required: true }],
  flags: [
    { name: 'calibration', kind: 'value', meta: 'FILE', help: 'calibration samples [N, ...input dims] (required unless the model is already QDQ)' },
    { name: 'out', kind: 'value', meta: 'FILE', help: 'write the int8 model here as QDQ ONNX (.onnx, atomically)' },
    { name: 'per-channel', kind: 'boolean', help: 'one weight scale per output channel (default: one per tensor)' },
    { name: 'scheme', kind: 'value', meta: 'uint8|int8', help: 'activation codes: uint8 affine (default) or int8 affine; weights are int8 symmetric' },
    { name: 'bits', kind: 'value', meta: 'N', help: 'bits of weights and activations, 2..8 (default 8; stored in 8-bit codes)' },
    { name: 'observer', kind: 'value', meta: 'NAME', help: 'minmax (default) or moving-average' },
    { name: 'batch-size', kind: 'value', meta: 'B', help: 'rows per calibration forward (default 64)' },
    { name: 'data', kind: 'value', meta: 'FILE', help: 'evaluation samples for --labels (default: the calibration file)' },
    { name: 'labels', kind: 'value', meta: 'FILE', help: 'class indices [N] of the evaluation samples: print float and int8 accuracy' },
    { name: 'label-column', kind: 'value', meta: 'NAME', help: 'name of a CSV label column to drop from the features (default "label")' },
  ],
  examples: [
    'edgenn quantize model.json --calibration calib.csv --out model.int8.onnx --per-channel',
    'edgenn quantize qat.onnx --out qat.int8.onnx --data test.npy --labels test-labels.npy',
  ],
};

/** The graph with fake-quant sites: a QDQ file's own, or prepared for calibration. */
function quantizable(g: Graph): { graph: Graph; calibrated: boolean } {
  if (g.nodes.some((n) => n.op === Op.Quantize || n.op === Op.Dequantize)) {
    const r = qdqToQat(g);
    if (r.sites > 0) return { graph: r.graph, calibrated: true };
  }
  return { graph: g, calibrated: false };
}

function accuracy(m: Model, x: Float32Array, y: Float32Array, per: number, C: number): number {
  const n = y.length;
  let hit = 0;
  for (let from = 0; from < n; from += m.maxBatch) {
    const b = Math.min(m.maxBatch, n - from);
    const out = m.run(x.subarray(from * per, (from + b) * per), b);
    for (let r = 0; r < b; r++) {
      let arg = 0;
      for (let c = 1; c < C; c++) if (out[r * C + c]! > out[r * C + arg]!) arg = c;
      if (arg === y[from + r]) hit++;
    }
  }
  return hit / n;
}

async function run(args: ParsedArgs, io: CliIo): Promise<number> {
  // ---- flags ----
  const outFlag = stringFlag(args, 'out');
  const out = outFlag !== undefined ? resolvePath(io, outFlag) : undefined;
  if (out !== undefined && !out.toLowerCase().endsWith('.onnx')) throw usageError('--out must name an .onnx file (the QDQ int8 model)', 'FILE.onnx', out);
  const scheme = choiceFlag(args, 'scheme', SCHEMES) ?? 'uint8';
  const observer = choiceFlag(args, 'observer', OBSERVERS) ?? 'minmax';
  const bits = numberFlag(args, 'bits', { integer: true, min: 2, max: 8 });
  const batch = numberFlag(args, 'batch-size', { integer: true, min: 1 }) ?? 64;
  const perChannel = boolFlag(args, 'per-channel');
  const labelColumn = stringFlag(args, 'label-column') ?? 'label';
  const config: QatConfig = {
    observer, rule: 'observer',
    weights: { perChannel, ...(bits !== undefined ? { bits } : {}) },
    activations: { signed: scheme === 'int8', ...(bits !== undefined ? { bits } : {}) },
  };

  // ---- model and data ----
  const loaded = loadModelFile(resolvePath(io, args.positionals[0]!));
  const inputs = graphInputs(loaded.graph), outputs = graphOutputs(loaded.graph);
  if (inputs.length !== 1) throw new EdgennError('UNSUPPORTED', 'quantize needs a model with one input', { file: loaded.file, actual: `${inputs.length} inputs` });
  const input = inputs[0]!, per = input.dims.reduce((p, d) => p * d, 1);
  const q = quantizable(loaded.graph);
  const calibPath = stringFlag(args, 'calibration');
  if (!q.calibrated && calibPath === undefined) throw usageError('missing --calibration FILE (the model has no quantization parameters yet)');
  const calib = calibPath !== undefined ? loadDataFile(resolvePath(io, calibPath), { labelColumn }) : null;
  if (calib !== null) {
    const n = rowsFor(calib.dims, input.dims, calib.file, input.name);
    if (n < 1) throw new EdgennError('DATA', 'the calibration file has no rows', { file: calib.file });
  }
  const labelsPath = stringFlag(args, 'labels');
  const dataPath = stringFlag(args, 'data');
  if (dataPath !== undefined && labelsPath === undefined) throw usageError('--data is the evaluation set of --labels: give --labels FILE too');
  let evalSet: { x: Float32Array; y: Float32Array } | null = null;
  if (labelsPath !== undefined) {
    const d = dataPath !== undefined ? loadDataFile(resolvePath(io, dataPath), { labelColumn }) : calib;
    if (d === null) throw usageError('--labels needs --data FILE (or --calibration FILE) with the samples they label');
    const n = rowsFor(d.dims, input.dims, d.file, input.name);
    const l = loadLabelsFile(resolvePath(io, labelsPath), { labelColumn });
    if (l.dims[0] !== n || l.dims.length > 2 || (l.dims.length === 2 && l.dims[1] !== 1)) {
      throw new EdgennError('SHAPE', 'labels must be [N] class indices, one per evaluation row', { file: l.file, expected: `[${n}]`, actual: `[${l.dims.join(', ')}]` });
    }
    const C = outputs[0]!.dims[outputs[0]!.dims.length - 1]!;
    checkClassLabels(l.data, C, l.file, -1);
    evalSet = { x: d.data, y: l.data };
  }

  // ---- calibrate, convert ----
  const qatGraph = q.calibrated ? q.graph : prepareQat(q.graph, config);
  const B = Math.max(1, Math.min(batch, calib !== null ? calib.dims[0]! : batch));
  const qm = compile(qatGraph, { maxBatch: B });
  if (!q.calibrated) calibrate(qm, calib!.data);
  const g8 = q.calibrated ? convertGraph(qatGraph, (v) => {
    if (v.init instanceof Float32Array) return v.init;
    throw new EdgennError('GRAPH', 'value has no float data', { tensor: v.name });
  }, { mode: 'onnx' }) : convertToInt8(qm);
  const m8 = compile(g8, { maxBatch: B });
  const int8Layers = g8.nodes.filter((n) => n.op === Op.Int8Linear).length;
  const floatModel = compile(loaded.graph, { maxBatch: B });
  const fw = weightBytes(qatGraph), qw = weightBytes(g8);
  io.stdout(`${q.calibrated ? 'quantization parameters from the model' : `calibrated on ${calib!.dims[0]} rows`}; ` +
    `${int8Layers} int8 layer(s)\n`);
  io.stdout(`weights: float32 ${fw.weights} bytes -> int8 ${qw.weights} bytes (${(fw.weights / Math.max(1, qw.weights)).toFixed(2)}x); ` +
    `biases ${fw.biases} -> ${qw.biases} bytes\n`);
  io.stdout(`arena (batch ${B}): float32 ${floatModel.report.totalBytes} bytes, int8 ${m8.report.totalBytes} bytes\n`);
  if (evalSet !== null) {
    const C = outputs[0]!.dims[outputs[0]!.dims.length - 1]!;
    io.stdout(`accuracy on ${evalSet.y.length} rows: ${q.calibrated ? 'fake-quant (the QDQ file)' : 'float32'} ${accuracy(floatModel, evalSet.x, evalSet.y, per, C).toFixed(4)}, ` +
      `int8 ${accuracy(m8, evalSet.x, evalSet.y, per, C).toFixed(4)}\n`);
  }
  if (out !== undefined) {
    const bytes = exportOnnxBytes(m8, { opset: 13 });
    writeFileAtomic(out, bytes);
    io.stdout(`wrote ${out} (${bytes.length} bytes, QDQ opset 13)\n`);
  }
  return 0;
}

export const quantizeCommand: Command = { spec, run };
