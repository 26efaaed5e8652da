// `edgenn train <model> --data FILE ...`: trains a model file on a data file with the runtime's
// trainer (runtime/train/trainer.ts `fit`) and writes the trained model (--out), a JSON-lines
// step log (--log-json) and per-epoch checkpoints (--checkpoint).
//
// Order of work, so that bad input never costs a training run and nothing is written half-way:
//   1. every flag is parsed and checked (names the flag, the value and what is allowed);
//   2. the model, data and labels are loaded and checked against each other: data finite, rows
//      match, sample shape vs the model input, target shape vs the model output, class labels in
//      range (naming the row and value), every output folder exists;
//   3. the model is compiled and trained;
//   4. --out is written atomically (temp + fsync + rename); the --log-json lines go to a temp file
//      during training that is renamed over the target at the end (also when the loss became
//      non-finite: the log is the record of what happened). If training fails, the temp file is
//      removed and the target is left as it was.
// Exit codes: 0 trained; 2 bad input (nothing written); 1 the loss became NaN/Inf (log written,
// --out not written).
import { readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { EdgennError } from '../../../runtime/errors.js';
import { compile } from '../../../runtime/model.js';
import { LOSS_KINDS, type LossKind, type LossSpec } from '../../../runtime/losses/spec.js';
import type { OptimizerConfig } from '../../../runtime/optim/optimizer.js';
import { fit } from '../../../runtime/train/trainer.js';
import type { Dataset, EpochRecord, FitOptions, FitResult, HealthRecord, StepRecord } from '../../../runtime/train/types.js';
import { checkClassLabels, loadDataFile, loadLabelsFile, type LoadedData } from '../../../importers/data/index.js';
import {
  boolFlag, choiceFlag, has, numberFlag, numberListFlag, requiredNumber, requiredString, stringFlag, usageError,
  type CommandSpec, type FlagSpec, type ParsedArgs,
} from '../args.js';
import { resolvePath, type CliIo, type Command } from '../command.js';
import { checkSavable, loadModelFile, MODEL_EXTENSIONS, saveModelFile, type LoadedModel } from '../load-model.js';
import { graphInputs, graphOutputs, rowsFor, sizeOfDims } from '../shapes.js';
import { AtomicAppender } from '../atomic-write.js';
import { prepareQat, parseQatConfig, qatSites, type QatConfig } from '../../../runtime/quant/qat.js';

const OPTIMIZERS = ['sgd', 'adam', 'adamw'] as const;
const REDUCTIONS = ['mean', 'sum', 'batchmean'] as const;
const TARGET_KINDS = ['index', 'probs'] as const;
const IGNORE_INDEX_DEFAULT = -100;

const v = (name: string, meta: string, help: string): FlagSpec => ({ name, kind: 'value', meta, help });
const b = (name: string, help: string): FlagSpec => ({ name, kind: 'boolean', help });

const spec: CommandSpec = {
  name: 'train',
  summary: 'train a model on a data file and write the trained model',
  usage: '<model> --data FILE [--labels FILE] --loss NAME --optimizer sgd|adam|adamw --lr X --epochs N --batch-size B [flags]',
  description:
    `<model> is a model file (${MODEL_EXTENSIONS.join(', ')}). Data files are CSV (with a header), .npy or JSON ` +
    '({"dims": [...], "data": [...]} or nested arrays). Class-index targets come from the CSV label column or ' +
    '--labels FILE shaped [N]; float targets (class probabilities for cross-entropy, values for mse/bce, ' +
    'distributions for kl-div) from --labels FILE shaped [N, C]. Everything is checked before training; ' +
    '--out and --log-json are written atomically. Exit code 2: bad input (nothing written); 1: the loss became NaN/Inf.',
  positionals: [{ name: 'model', help: 'the model file to train', required: true }],
  flags: [
    v('data', 'FILE', 'training features: .csv, .npy or .json, [N, ...input dims]'),
    v('labels', 'FILE', 'targets: [N] class indices or [N, C] floats (default: the CSV label column)'),
    v('label-column', 'NAME', 'name of the CSV label column (default "label")'),
    v('loss', 'NAME', `loss: ${LOSS_KINDS.join(', ')}`),
    v('reduction', 'MODE', 'mean (default), sum, or batchmean (kl-div; its default)'),
    v('class-weights', 'W1,W2,...', 'per-class weights (cross-entropy, nll)'),
    v('ignore-index', 'N', 'class index whose rows are ignored (cross-entropy, nll; default -100)'),
    v('label-smoothing', 'X', 'label smoothing in [0, 1] (cross-entropy)'),
    v('pos-weight', 'P1,P2,...', 'weight of positive examples per output (bce-with-logits)'),
    b('log-target', 'the kl-div target is given as log-probabilities'),
    v('targets', 'index|probs', 'cross-entropy targets (default: index for [N] labels, probs for [N, C])'),
    v('optimizer', 'NAME', 'sgd, adam or adamw'),
    v('lr', 'X', 'learning rate (>= 0; 0 evaluates the loss without changing the model)'),
    v('momentum', 'X', 'SGD momentum (default 0)'),
    v('dampening', 'X', 'SGD dampening (default 0)'),
    b('nesterov', 'SGD Nesterov momentum'),
    v('weight-decay', 'X', 'weight decay (default 0; adamw 0.01)'),
    v('betas', 'B1,B2', 'Adam betas (default 0.9,0.999)'),
    v('eps', 'X', 'Adam epsilon (default 1e-8)'),
    v('epochs', 'N', 'passes over the training data'),
    v('batch-size', 'B', 'rows per optimizer step (the last batch of an epoch may be smaller)'),
    b('no-shuffle', 'visit the rows in file order every epoch'),
    v('seed', 'S', 'seed of the shuffle and the validation split (default 0)'),
    v('validation-split', 'F', 'hold out this fraction of the rows for validation (default 0)'),
    v('early-stopping-patience', 'N', 'stop after N epochs without improvement of the val loss (else the loss) and restore the best weights'),
    v('clip-grad-norm', 'X', 'clip the global gradient norm to X before each update'),
    v('health-every', 'N', 'every N steps record gradient norms, dead ReLUs, saturated units'),
    v('out', 'FILE', `write the trained model here (${MODEL_EXTENSIONS.join(', ')})`),
    v('log-json', 'FILE', 'write one JSON line per optimizer step: {"step","epoch","batch","loss","accuracy","lr",...}'),
    v('checkpoint', 'FILE', 'save a checkpoint (atomically) after every epoch'),
    b('qat', 'quantization-aware training: fake-quantize the weights (int8 per channel) and activations (uint8) of every ' +
      'dense/conv layer while training; --out .onnx then holds the QDQ model (edgenn quantize converts it to int8)'),
    v('qat-config', 'FILE', 'QAT settings as JSON: {"weights": {"bits", "signed", "symmetric", "narrow", "perChannel"}, ' +
      '"activations": {"bits", "signed", "symmetric", "reduceRange"}, "observer": "minmax"|"moving-average", "averagingConstant", ' +
      '"freezeObserverAt", "fakeQuantFrom", "rule": "fused"|"observer", "fuseRelu", "learnable"} (implies --qat)'),
  ],
  examples: [
    'edgenn train model.json --data train.csv --loss cross-entropy --optimizer adam --lr 0.01 --epochs 20 --batch-size 32 --out trained.json',
    'edgenn train model.json --data x.npy --labels y.npy --loss mse --optimizer sgd --lr 0.1 --momentum 0.9 --epochs 5 --batch-size 8 --log-json log.jsonl',
  ],
};

interface TrainSettings {
  readonly loss: LossSpec;
  readonly targets: 'index' | 'probs' | 'float';
  readonly optimizer: OptimizerConfig;
  readonly fit: Omit<FitOptions, 'onStep' | 'onEpoch'>;
  readonly out?: string;
  readonly logJson?: string;
  readonly checkpoint?: string;
  readonly qat: boolean;
  readonly qatConfig?: string;
}

/** Flags that apply to some losses or optimizers only: using one elsewhere is an error. */
const LOSS_ONLY: Readonly<Record<string, readonly LossKind[]>> = {
  'class-weights': ['cross-entropy', 'nll'],
  'ignore-index': ['cross-entropy', 'nll'],
  'label-smoothing': ['cross-entropy'],
  'targets': ['cross-entropy'],
  'pos-weight': ['bce-with-logits'],
  'log-target': ['kl-div'],
};
const OPTIMIZER_ONLY: Readonly<Record<string, readonly string[]>> = {
  momentum: ['sgd'], dampening: ['sgd'], nesterov: ['sgd'], betas: ['adam', 'adamw'], eps: ['adam', 'adamw'],
};

/** Step 1: flags → settings, before any file is read. */
function readFlags(a: ParsedArgs, io: CliIo): TrainSettings {
  const kind = choiceFlag(a, 'loss', LOSS_KINDS);
  if (kind === undefined) throw usageError(`missing required flag --loss NAME`, `one of ${LOSS_KINDS.join(', ')}`);
  for (const [flag, kinds] of Object.entries(LOSS_ONLY)) {
    if (has(a, flag) && !kinds.includes(kind)) throw usageError(`--${flag} does not apply to --loss ${kind}`, `a loss among ${kinds.join(', ')}`);
  }
  const reduction = choiceFlag(a, 'reduction', REDUCTIONS);
  if (reduction === 'batchmean' && kind !== 'kl-div') throw usageError(`--reduction batchmean applies to --loss kl-div only`, 'mean or sum');
  const red = reduction === 'batchmean' ? undefined : reduction;
  const weight = numberListFlag(a, 'class-weights', { min: 0 });
  const ignoreIndex = numberFlag(a, 'ignore-index', { integer: true });
  const labelSmoothing = numberFlag(a, 'label-smoothing', { min: 0, max: 1 });
  const posWeight = numberListFlag(a, 'pos-weight', { min: 0 });
  const targetFlag = choiceFlag(a, 'targets', TARGET_KINDS);
  let loss: LossSpec;
  switch (kind) {
    case 'cross-entropy':
      loss = { kind, ...(red !== undefined ? { reduction: red } : {}), ...(weight !== undefined ? { weight } : {}),
        ...(ignoreIndex !== undefined ? { ignoreIndex } : {}), ...(labelSmoothing !== undefined ? { labelSmoothing } : {}) };
      break;
    case 'nll':
      loss = { kind, ...(red !== undefined ? { reduction: red } : {}), ...(weight !== undefined ? { weight } : {}),
        ...(ignoreIndex !== undefined ? { ignoreIndex } : {}) };
      break;
    case 'mse': case 'bce':
      loss = { kind, ...(red !== undefined ? { reduction: red } : {}) };
      break;
    case 'bce-with-logits':
      loss = { kind, ...(red !== undefined ? { reduction: red } : {}), ...(posWeight !== undefined ? { posWeight } : {}) };
      break;
    case 'kl-div':
      loss = { kind, ...(reduction !== undefined ? { reduction } : {}), ...(boolFlag(a, 'log-target') ? { logTarget: true } : {}) };
      break;
    default: {
      const never: never = kind;
      throw usageError(`unknown loss ${String(never)}`);
    }
  }
  // 'float' for every loss without class targets; cross-entropy's choice waits for the labels' shape
  const targets = kind === 'nll' ? 'index' : kind === 'cross-entropy' ? (targetFlag ?? 'index') : 'float';

  const optKind = choiceFlag(a, 'optimizer', OPTIMIZERS);
  if (optKind === undefined) throw usageError('missing required flag --optimizer NAME', OPTIMIZERS.join(', '));
  for (const [flag, kinds] of Object.entries(OPTIMIZER_ONLY)) {
    if (has(a, flag) && !kinds.includes(optKind)) throw usageError(`--${flag} does not apply to --optimizer ${optKind}`, `an optimizer among ${kinds.join(', ')}`);
  }
  const lr = requiredNumber(a, 'lr', { min: 0 });
  const weightDecay = numberFlag(a, 'weight-decay', { min: 0 });
  let optimizer: OptimizerConfig;
  if (optKind === 'sgd') {
    const momentum = numberFlag(a, 'momentum', { min: 0 });
    const dampening = numberFlag(a, 'dampening', {});
    const nesterov = boolFlag(a, 'nesterov');
    if (nesterov && (!(momentum !== undefined && momentum > 0) || (dampening ?? 0) !== 0)) {
      throw usageError('--nesterov needs --momentum > 0 and no dampening', 'momentum > 0, dampening 0',
        `momentum ${momentum ?? 0}, dampening ${dampening ?? 0}`);
    }
    optimizer = { kind: 'sgd', lr, ...(momentum !== undefined ? { momentum } : {}), ...(dampening !== undefined ? { dampening } : {}),
      ...(nesterov ? { nesterov } : {}), ...(weightDecay !== undefined ? { weightDecay } : {}) };
  } else {
    const betas = numberListFlag(a, 'betas', { min: 0, below: 1 });
    if (betas !== undefined && betas.length !== 2) throw usageError('--betas takes two numbers B1,B2', 'e.g. 0.9,0.999', stringFlag(a, 'betas'));
    const eps = numberFlag(a, 'eps', { min: 0 });
    optimizer = { kind: optKind, lr, ...(betas !== undefined ? { betas: [betas[0]!, betas[1]!] as const } : {}),
      ...(eps !== undefined ? { eps } : {}), ...(weightDecay !== undefined ? { weightDecay } : {}) };
  }

  const epochs = requiredNumber(a, 'epochs', { integer: true, min: 1 });
  const batchSize = requiredNumber(a, 'batch-size', { integer: true, min: 1 });
  if (boolFlag(a, 'no-shuffle') && has(a, 'seed')) throw usageError('--no-shuffle and --seed exclude each other (the seed drives the shuffle)');
  const seed = numberFlag(a, 'seed', { integer: true, min: 0, max: 0xffffffff });
  const validationSplit = numberFlag(a, 'validation-split', { min: 0, below: 1 });
  const patience = numberFlag(a, 'early-stopping-patience', { integer: true, min: 1 });
  const clipGradNorm = numberFlag(a, 'clip-grad-norm', { above: 0 });
  const healthEvery = numberFlag(a, 'health-every', { integer: true, min: 0 });

  const paths = new Map<string, string>();
  const modelPath = a.positionals[0] !== undefined ? resolvePath(io, a.positionals[0]) : '';
  const inputPaths = new Map<string, string>([[modelPath, '<model>']]);
  for (const f of ['data', 'labels']) {
    const s = stringFlag(a, f);
    if (s !== undefined) inputPaths.set(resolvePath(io, s), `--${f}`);
  }
  const outPath = (flag: string): string | undefined => {
    const s = stringFlag(a, flag);
    if (s === undefined) return undefined;
    if (s === '') throw usageError(`--${flag} is empty`);
    const p = resolvePath(io, s);
    const other = paths.get(p);
    if (other !== undefined) throw usageError(`--${flag} and --${other} name the same file ${p}`);
    const input = inputPaths.get(p);
    // --out may replace the model file it trained (written only when training succeeded)
    if (input !== undefined && !(flag === 'out' && input === '<model>')) {
      throw usageError(`--${flag} would overwrite the input file ${p} (${input})`);
    }
    paths.set(p, flag);
    checkOutputTarget(p, flag);
    return p;
  };
  const out = outPath('out'), logJson = outPath('log-json'), checkpoint = outPath('checkpoint');
  return {
    loss, targets, optimizer,
    fit: {
      epochs, batchSize, shuffle: !boolFlag(a, 'no-shuffle'),
      ...(seed !== undefined ? { seed } : {}), ...(validationSplit !== undefined ? { validationSplit } : {}),
      ...(patience !== undefined ? { earlyStopping: { patience } } : {}),
      ...(clipGradNorm !== undefined ? { clipGradNorm } : {}), ...(healthEvery !== undefined ? { healthEvery } : {}),
      ...(checkpoint !== undefined ? { checkpointPath: checkpoint } : {}),
    },
    ...(out !== undefined ? { out } : {}), ...(logJson !== undefined ? { logJson } : {}),
    ...(checkpoint !== undefined ? { checkpoint } : {}),
    qat: boolFlag(a, 'qat') || has(a, 'qat-config'),
    ...(stringFlag(a, 'qat-config') !== undefined ? { qatConfig: resolvePath(io, stringFlag(a, 'qat-config')!) } : {}),
  };
}

/** An output path must be a file in an existing folder (so it can be written after training). */
function checkOutputTarget(path: string, flag: string): void {
  const dir = dirname(path);
  let ok = false;
  try { ok = statSync(dir).isDirectory(); } catch { ok = false; }
  if (!ok) throw new EdgennError('IO', `--${flag}: the folder does not exist`, { file: path, expected: `an existing folder ${dir}` });
  try {
    if (statSync(path).isDirectory()) throw new EdgennError('IO', `--${flag}: is a folder, not a file`, { file: path });
  } catch (e) {
    if (e instanceof EdgennError) throw e;
  }
}

interface Prepared {
  readonly loaded: LoadedModel;
  readonly dataset: Dataset;
  readonly loss: LossSpec;
  readonly classTargets: boolean;
  /** the QAT config when training with --qat */
  readonly qat: QatConfig | null;
}

/** Step 2: load and check model, data and labels against each other. */
function prepare(a: ParsedArgs, io: CliIo, s: TrainSettings): Prepared {
  const loaded = loadModelFile(resolvePath(io, a.positionals[0]!));
  const inputs = graphInputs(loaded.graph);
  const outputs = graphOutputs(loaded.graph);
  if (inputs.length !== 1 || outputs.length < 1) {
    throw new EdgennError('UNSUPPORTED', 'train needs a model with one input', { file: loaded.file, actual: `${inputs.length} inputs` });
  }
  if (s.out !== undefined) checkSavable(s.out, loaded);
  const input = inputs[0]!, output = outputs[0]!;

  const dataPath = resolvePath(io, requiredString(a, 'data', 'FILE'));
  const labelsFlag = stringFlag(a, 'labels');
  const labelColumn = stringFlag(a, 'label-column') ?? 'label';
  const dataIsCsv = dataPath.toLowerCase().endsWith('.csv');
  if (labelsFlag === undefined && !dataIsCsv) {
    throw usageError(`--data ${dataPath} holds features only: give the targets with --labels FILE`);
  }
  const data = loadDataFile(dataPath, { labelColumn, requireLabel: labelsFlag === undefined });
  const N = rowsFor(data.dims, input.dims, dataPath, input.name);
  if (N < 1) throw new EdgennError('DATA', 'the data file has no rows', { file: dataPath });

  let labels: LoadedData;
  if (labelsFlag !== undefined) {
    if (data.labels !== undefined) {
      throw usageError(`both the label column "${labelColumn}" of --data and --labels give targets; drop one (or rename the column)`);
    }
    labels = loadLabelsFile(resolvePath(io, labelsFlag), { labelColumn });
  } else {
    labels = { file: `${dataPath} (column "${labelColumn}")`, dims: [N], data: data.labels! };
  }
  if (labels.dims[0] !== N) {
    throw new EdgennError('SHAPE', 'labels and data have different numbers of rows',
      { file: labels.file, expected: `${N} rows (as ${dataPath})`, actual: `${labels.dims[0]} rows` });
  }

  const outDims = output.dims;
  const C = outDims[outDims.length - 1] ?? 1;
  let loss = s.loss;
  let targets = s.targets;
  if (loss.kind === 'cross-entropy' && !has(a, 'targets')) targets = labels.dims.length === 1 ? 'index' : 'probs';
  if (targets === 'index' || targets === 'probs') {
    if (outDims.length !== 1) {
      throw new EdgennError('SHAPE', `${loss.kind} needs a model output [N, C] of class scores`,
        { file: loaded.file, tensor: output.name, expected: '[N, C]', actual: `[N, ${outDims.join(', ')}]` });
    }
  }
  // per-class options against the model's classes, naming the flag (compile would name the option)
  if ((loss.kind === 'cross-entropy' || loss.kind === 'nll') && loss.weight !== undefined && loss.weight.length !== C) {
    throw usageError(`--class-weights needs one weight per class of the model output ${output.name}`, `${C} values`, `${loss.weight.length}`);
  }
  if (loss.kind === 'bce-with-logits' && loss.posWeight !== undefined && loss.posWeight.length !== C) {
    throw usageError(`--pos-weight needs one value per output of the last dimension of ${output.name}`, `${C} values`, `${loss.posWeight.length}`);
  }
  let y: Float32Array | Int32Array;
  let targetFloats: number;
  if (targets === 'index') {
    const flat = labels.dims.length === 1 || (labels.dims.length === 2 && labels.dims[1] === 1);
    if (!flat) {
      throw new EdgennError('SHAPE', `${loss.kind} with class-index targets needs labels shaped [N]`,
        { file: labels.file, expected: `[${N}]`, actual: `[${labels.dims.join(', ')}]${loss.kind === 'cross-entropy' ? ' (for probabilities use --targets probs)' : ''}` });
    }
    const ignore = 'ignoreIndex' in loss && loss.ignoreIndex !== undefined ? loss.ignoreIndex : IGNORE_INDEX_DEFAULT;
    checkClassLabels(labels.data, C, labels.file, ignore);
    y = Int32Array.from(labels.data);
    targetFloats = 1;
  } else {
    const per = sizeOfDims(outDims);
    if (targets === 'probs' && labels.dims.length !== 2) {
      throw new EdgennError('SHAPE', 'cross-entropy with --targets probs needs labels shaped [N, C]',
        { file: labels.file, expected: `[${N}, ${C}]`, actual: `[${labels.dims.join(', ')}]` });
    }
    rowsFor(labels.dims, outDims, labels.file, `target (model output ${output.name})`);
    if (loss.kind === 'bce') checkRange(labels, 0, 1, 'bce targets must be probabilities');
    y = labels.data;
    targetFloats = per;
    if (loss.kind === 'cross-entropy') loss = { ...loss, target: 'probs' };
  }
  if (loss.kind === 'cross-entropy' && targets === 'index') loss = { ...loss, target: 'index' };
  const dataset: Dataset = { x: data.data, sampleDims: input.dims, y, targetFloats, n: N };
  let qat: QatConfig | null = null;
  if (s.qat) {
    qat = {};
    if (s.qatConfig !== undefined) {
      let raw: unknown;
      try { raw = JSON.parse(readFileSync(s.qatConfig, 'utf8')); } catch (e) {
        throw new EdgennError('IO', `--qat-config: cannot read JSON: ${(e as Error).message}`, { file: s.qatConfig });
      }
      qat = parseQatConfig(raw, s.qatConfig);
    }
  }
  return { loaded, dataset, loss, classTargets: targets === 'index', qat };
}

function checkRange(d: LoadedData, lo: number, hi: number, what: string): void {
  const per = d.dims.length > 1 ? sizeOfDims(d.dims.slice(1)) : 1;
  for (let i = 0; i < d.data.length; i++) {
    const x = d.data[i]!;
    if (!(x >= lo && x <= hi)) {
      throw new EdgennError('DATA', `${what}: row ${Math.floor(i / per)} (0-based), column ${i % per} is ${x}`,
        { file: d.file, expected: `values in [${lo}, ${hi}]`, actual: String(x) });
    }
  }
}

function fmtNum(x: number, digits = 4): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

function healthLine(h: HealthRecord): string {
  const layers = h.layers.map((l) => `${l.param} ${l.gradNorm.toExponential(2)}`).join(', ');
  const what = { 'dead': 'dead ReLUs', 'sat-sigmoid': 'saturated sigmoids', 'sat-tanh': 'saturated tanh units' } as const;
  const acts = h.activations.map((x) => `${what[x.kind]} in layer ${x.node} ${(x.fraction * 100).toFixed(1)}%`).join(', ');
  return `  health: grad norm ${h.gradNormTotal.toExponential(2)} (${layers})${acts !== '' ? `; ${acts}` : ''}`;
}

function stepJson(r: Readonly<StepRecord>): string {
  // JSON.stringify writes NaN (accuracy of float targets, gradNorm when not computed) as null
  return JSON.stringify({
    step: r.step, epoch: r.epoch, batch: r.batch, loss: r.loss, accuracy: r.accuracy, lr: r.lr,
    batchSize: r.batchSize, gradNorm: r.gradNorm, ...(r.health !== null ? { health: r.health } : {}),
  }) + '\n';
}

async function run(args: ParsedArgs, io: CliIo): Promise<number> {
  const s = readFlags(args, io);
  const p = prepare(args, io, s);
  const N = p.dataset.n;
  const B = Math.min(s.fit.batchSize, N);
  const graph = p.qat !== null ? prepareQat(p.loaded.graph, p.qat) : p.loaded.graph;
  const model = compile(graph, { maxBatch: B, loss: p.loss, optimizer: s.optimizer, probes: (s.fit.healthEvery ?? 0) > 0 });
  if (p.qat !== null) io.stdout(`QAT: ${qatSites(model).length} fake-quant sites (weights and activations of every dense/conv layer)\n`);

  const split = s.fit.validationSplit ?? 0;
  const nTrain = split > 0 ? N - Math.max(1, Math.round(N * split)) : N;
  if (nTrain < 1) throw usageError('--validation-split leaves no training rows', `a split below ${(N - 1) / N}`, String(split));
  const batches = Math.ceil(nTrain / B);
  const E = s.fit.epochs;
  let lastDraw = 0;
  let lastHealth: HealthRecord | null = null;
  let lastStep = 0;
  const log = s.logJson !== undefined ? new AtomicAppender(s.logJson) : null;
  const onStep = (r: Readonly<StepRecord>): void => {
    lastStep = r.step;
    if (log !== null) log.write(stepJson(r));
    if (r.health !== null) lastHealth = r.health;
    if (io.isTTY) {
      const now = Date.now();
      if (now - lastDraw >= 100 || r.batch === batches - 1) {
        lastDraw = now;
        io.stdout(`\r\x1b[Kepoch ${r.epoch + 1}/${E}  batch ${r.batch + 1}/${batches}  loss ${fmtNum(r.loss)}`);
      }
    }
  };
  const onEpoch = (r: Readonly<EpochRecord>): void => {
    const parts = [`epoch ${r.epoch + 1}/${E}`, `loss ${fmtNum(r.loss)}`];
    if (p.classTargets) parts.push(`acc ${fmtNum(r.accuracy, 3)}`);
    if (r.valLoss !== null) parts.push(`val_loss ${fmtNum(r.valLoss)}`);
    if (r.valAccuracy !== null && p.classTargets) parts.push(`val_acc ${fmtNum(r.valAccuracy, 3)}`);
    parts.push(`lr ${r.lr}`, `${r.seconds.toFixed(2)} s`);
    io.stdout(`${io.isTTY ? '\r\x1b[K' : ''}${parts.join('  ')}\n`);
    if (lastHealth !== null) io.stdout(healthLine(lastHealth) + '\n');
    lastHealth = null;
  };

  let result: FitResult;
  try {
    result = fit(model, p.dataset, { ...s.fit, batchSize: B, onStep, onEpoch });
  } catch (e) {
    log?.abort();
    throw e;
  }
  if (io.isTTY) io.stdout('\r\x1b[K');
  log?.commit();
  const written: string[] = [];
  if (s.logJson !== undefined) written.push(`log ${s.logJson}`);
  if (s.checkpoint !== undefined && result.epochs.length > 0) written.push(`checkpoint ${s.checkpoint}`);
  if (result.stopReason === 'non-finite') {
    io.stderr(`edgenn train: the loss became NaN/Inf after step ${lastStep}; try a lower --lr or --clip-grad-norm. ` +
      `${s.out !== undefined ? `--out ${s.out} not written.` : ''}${written.length > 0 ? ` Wrote ${written.join(', ')}.` : ''}\n`);
    return 1;
  }
  if (s.out !== undefined) {
    saveModelFile(s.out, model, p.loaded);
    if (p.qat !== null && !s.out.toLowerCase().endsWith('.onnx')) {
      io.stdout('note: a JSON model keeps the QAT-trained float weights only; --out FILE.onnx keeps the quantization parameters (QDQ)\n');
    }
    written.unshift(`model ${s.out}`);
  }
  const last = result.epochs[result.epochs.length - 1];
  const stop = result.stopReason === 'early-stopping' ? ` (early stopping; best epoch ${result.bestEpoch + 1})` : '';
  io.stdout(`trained ${result.epochs.length} epoch(s), ${result.steps} steps${stop}` +
    (last !== undefined ? `; final loss ${fmtNum(last.loss)}${p.classTargets ? `, accuracy ${fmtNum(last.accuracy, 3)}` : ''}` : '') +
    (written.length > 0 ? `; wrote ${written.join(', ')}` : '') + '\n');
  return 0;
}

export const trainCommand: Command = { spec, run };
