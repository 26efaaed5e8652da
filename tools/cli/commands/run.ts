// `edgenn run <model> [--input NAME=FILE | FILE]...`: inference on data files, printing
//   {"outputs": {NAME: {"dims": [N, ...], "data": [...]}}}
// Inputs without a name bind to the model's inputs (those not bound by name) in order; the batch
// is the rows of the files (all inputs must have the same N). The model is compiled once with
// maxBatch = min(N, --max-batch) and run chunk by chunk. Output values are float32 printed in
// their shortest exact decimal; NaN/±Infinity (JSON has none) print as "NaN"/"Infinity" strings.
import { EdgennError } from '../../../runtime/errors.js';
import { compile } from '../../../runtime/model.js';
import { loadDataFile } from '../../../importers/data/index.js';
import { f32Shortest } from '../../../importers/json-model.js';
import { numberFlag, repeatedFlag, usageError, type CommandSpec, type ParsedArgs } from '../args.js';
import { resolvePath, type CliIo, type Command } from '../command.js';
import { loadModelFile, MODEL_EXTENSIONS } from '../load-model.js';
import { graphInputs, graphOutputs, rowsFor, sizeOfDims } from '../shapes.js';

const spec: CommandSpec = {
  name: 'run',
  summary: 'run a model on data files and print its outputs as JSON',
  usage: '<model> [--input NAME=FILE | FILE]... [--max-batch N]',
  description:
    `<model> is a model file (${MODEL_EXTENSIONS.join(', ')}). Data files are CSV (with a header; a "label" column is ignored), ` +
    '.npy or JSON ({"dims": [...], "data": [...]} or nested arrays), shaped [N, ...input dims] (or [N, features] flattened). ' +
    'Prints {"outputs": {NAME: {"dims": [N, ...], "data": [...]}}} on stdout.',
  positionals: [
    { name: 'model', help: 'the model file', required: true },
    { name: 'FILE', help: 'input data files, bound to the model inputs in order', variadic: true },
  ],
  flags: [
    { name: 'input', kind: 'value', meta: 'NAME=FILE', repeat: true, help: 'bind a data file to the input NAME (or FILE alone: the next unbound input)' },
    { name: 'max-batch', kind: 'value', meta: 'N', help: 'run at most N rows at a time (default 4096)' },
  ],
  examples: [
    'edgenn run model.json points.csv',
    'edgenn run model.json --input input=points.npy > outputs.json',
  ],
};

function jsonNumber(v: number): string {
  if (Number.isNaN(v)) return '"NaN"';
  if (v === Infinity) return '"Infinity"';
  if (v === -Infinity) return '"-Infinity"';
  return Object.is(v, -0) ? '-0' : String(f32Shortest(v));
}

async function run(args: ParsedArgs, io: CliIo): Promise<number> {
  const maxBatchFlag = numberFlag(args, 'max-batch', { integer: true, min: 1 }) ?? 4096;
  const modelPath = resolvePath(io, args.positionals[0]!);
  const loaded = loadModelFile(modelPath);
  const inputs = graphInputs(loaded.graph);

  // ---- bind files to inputs: named first, then unnamed in order ----
  const bound: (string | undefined)[] = inputs.map(() => undefined);
  const unnamed: string[] = [];
  for (const s of repeatedFlag(args, 'input')) {
    const eq = s.indexOf('=');
    const name = eq > 0 ? s.slice(0, eq) : null;
    const i = name !== null ? inputs.findIndex((v) => v.name === name) : -1;
    if (name !== null && i < 0) {
      throw usageError(`--input ${s}: the model has no input named ${JSON.stringify(name)}`, `one of ${inputs.map((v) => v.name).join(', ')}`);
    }
    if (i >= 0) {
      if (bound[i] !== undefined) throw usageError(`input ${JSON.stringify(name)} is bound more than once`);
      bound[i] = s.slice(eq + 1);
    } else {
      unnamed.push(s);
    }
  }
  unnamed.push(...args.positionals.slice(1));
  for (const f of unnamed) {
    const i = bound.findIndex((b) => b === undefined);
    if (i < 0) throw usageError(`too many input files: the model has ${inputs.length} input(s)`, `${inputs.length}`, `extra file ${f}`);
    bound[i] = f;
  }
  const missing = bound.findIndex((b) => b === undefined);
  if (missing >= 0) {
    throw usageError(`no data for input ${JSON.stringify(inputs[missing]!.name)} [N, ${inputs[missing]!.dims.join(', ')}]`,
      'a data file per model input (--input NAME=FILE or FILE)');
  }

  // ---- load and check every file before running anything ----
  let N = -1;
  let firstFile = '';
  const data = bound.map((f, i) => {
    const path = resolvePath(io, f!);
    const d = loadDataFile(path);
    const n = rowsFor(d.dims, inputs[i]!.dims, path, inputs[i]!.name);
    if (N >= 0 && n !== N) {
      throw new EdgennError('SHAPE', 'input files have different numbers of rows', { file: path, expected: `${N} rows (as ${firstFile})`, actual: `${n}` });
    }
    if (n < 1) throw new EdgennError('DATA', 'input file has no rows', { file: path });
    N = n;
    firstFile = path;
    return d.data;
  });

  const B = Math.min(N, maxBatchFlag);
  const model = compile(loaded.graph, { maxBatch: B });
  const outputs = graphOutputs(loaded.graph);
  const outPer = outputs.map((v) => sizeOfDims(v.dims));
  const results = outPer.map((p) => new Float32Array(N * p));
  const inPer = inputs.map((v) => sizeOfDims(v.dims));
  for (let from = 0; from < N; from += B) {
    const b = Math.min(B, N - from);
    data.forEach((x, i) => model.inputView(i).set(x.subarray(from * inPer[i]!, (from + b) * inPer[i]!)));
    model.forward(b);
    results.forEach((r, o) => r.set(model.outputView(o).subarray(0, b * outPer[o]!), from * outPer[o]!));
  }

  const parts = outputs.map((v, o) => {
    const values: string[] = new Array<string>(results[o]!.length);
    for (let k = 0; k < values.length; k++) values[k] = jsonNumber(results[o]![k]!);
    return `${JSON.stringify(v.name)}: {"dims": [${[N, ...v.dims].join(', ')}], "data": [${values.join(', ')}]}`;
  });
  io.stdout(`{"outputs": {${parts.join(', ')}}}\n`);
  return 0;
}

export const runCommand: Command = { spec, run };
