// The trainer: epochs of mini-batches over a Float32Array dataset, on a compiled training model.
// Seeded shuffle or a fixed order, a validation split, early stopping, LR schedules, gradient
// clipping, per-step and per-epoch records, training-health signals every N steps (per-layer
// gradient norms, dead ReLUs, saturated sigmoid/tanh), and checkpoints after every epoch.
// Everything it needs is allocated once per `fit`; a step copies rows into the model's input
// view and runs the planned instructions. Callbacks receive one reused record.
import { EdgennError } from '../errors.js';
import { Rng } from '../random.js';
import type { Model } from '../model.js';
import { gradNorm, clipGradNorm } from '../optim/clip.js';
import { resolveSchedule, scheduleLr } from '../optim/schedule.js';
import { saveCheckpoint } from './checkpoint.js';
import type { Dataset, EpochRecord, FitOptions, FitResult, HealthRecord, StepRecord } from './types.js';

export type { Dataset, FitOptions, FitResult, StepRecord, EpochRecord, HealthRecord } from './types.js';

/** Checks that a dataset fits the model's input and target; throws naming what differs. */
export function checkDataset(model: Model, d: Dataset, what = 'training data'): void {
  const input = model.plan.inputs[0]!;
  const per = input.floats;
  const sample = d.sampleDims.reduce((p, q) => p * q, 1);
  if (sample !== per || d.x.length !== d.n * per) {
    throw new EdgennError('SHAPE', `${what} does not match the model input`, {
      tensor: input.name, expected: `[N, ${input.dims.join(', ')}]`, actual: `[${d.n}, ${d.sampleDims.join(', ')}] (${d.x.length} values)`,
    });
  }
  const tg = model.plan.target;
  if (tg === null) throw new EdgennError('STATE', 'the model was compiled without a loss; compile with { loss, optimizer } to train');
  if (d.targetFloats !== tg.floats || d.y.length !== d.n * d.targetFloats) {
    throw new EdgennError('SHAPE', `${what}: targets do not match the loss`, {
      tensor: 'target',
      expected: model.plan.targetIsIndex ? `${d.n} class indices` : `[N, ${tg.dims.join(', ')}] floats`,
      actual: `${d.y.length} values (${d.targetFloats} per sample)`,
    });
  }
  for (let i = 0; i < d.x.length; i++) {
    if (!Number.isFinite(d.x[i]!)) {
      throw new EdgennError('DATA', `${what} has a non-finite value at sample ${Math.floor(i / per)}, feature ${i % per}`, { actual: String(d.x[i]) });
    }
  }
}

/** Takes rows `idx[from..from+count)` of a dataset as a new dataset (allocates; setup only). */
export function subset(d: Dataset, idx: ArrayLike<number>, from: number, count: number): Dataset {
  const per = d.x.length / d.n;
  const x = new Float32Array(count * per);
  const y = d.y instanceof Int32Array ? new Int32Array(count * d.targetFloats) : new Float32Array(count * d.targetFloats);
  for (let r = 0; r < count; r++) {
    const i = idx[from + r]!;
    x.set(d.x.subarray(i * per, (i + 1) * per), r * per);
    y.set(d.y.subarray(i * d.targetFloats, (i + 1) * d.targetFloats), r * d.targetFloats);
  }
  return { x, sampleDims: d.sampleDims, y, targetFloats: d.targetFloats, n: count };
}

/** Loss (sample-weighted mean over batches) and accuracy of a model on a dataset, batch by batch. */
export function evaluate(model: Model, d: Dataset): { loss: number; accuracy: number } {
  checkDataset(model, d, 'evaluation data');
  const B = model.maxBatch;
  const yb = d.y instanceof Int32Array ? new Int32Array(B * d.targetFloats) : new Float32Array(B * d.targetFloats);
  const idx = Int32Array.from({ length: d.n }, (_, i) => i);
  const acc = new Int32Array(2);
  let loss = 0;
  for (let from = 0; from < d.n; from += B) {
    const b = Math.min(B, d.n - from);
    gather(model, d, idx, from, b, yb);
    model.forwardLoss(b);
    loss += model.lossView[0]! * b;
    batchAccuracy(model, yb, b, acc);
  }
  return { loss: loss / d.n, accuracy: acc[1]! > 0 ? acc[0]! / acc[1]! : NaN };
}

/** Trains `model` on `data`; see FitOptions. */
export function fit(model: Model, data: Dataset, opts: FitOptions): FitResult {
  checkOptions(model, opts);
  checkDataset(model, data);
  const opt = model.optimizer;
  if (opt === null) throw new EdgennError('STATE', 'the model was compiled without an optimizer');
  const rng = new Rng(opts.seed ?? 0);

  // ---- train / validation split (setup: allocates) ----
  let train = data;
  let val: Dataset | null = opts.validation ?? null;
  if (val !== null) checkDataset(model, val, 'validation data');
  const split = opts.validationSplit ?? 0;
  if (split > 0) {
    const order = Int32Array.from({ length: data.n }, (_, i) => i);
    rng.shuffle(order);
    const nVal = Math.max(1, Math.round(data.n * split));
    if (nVal >= data.n) throw new EdgennError('ARG', 'validation split leaves no training samples', { actual: String(split) });
    val = subset(data, order, data.n - nVal, nVal);
    train = subset(data, order, 0, data.n - nVal);
  }

  const B = opts.batchSize;
  const schedule = opts.schedule !== undefined ? resolveSchedule(opts.schedule) : null;
  const baseLr = opt.lr;
  const healthEvery = opts.healthEvery ?? 0;
  const shuffle = opts.shuffle ?? true;
  const stopOnNonFinite = opts.stopOnNonFinite ?? true;
  const es = opts.earlyStopping;
  const monitorVal = (es?.monitor ?? (val !== null ? 'val_loss' : 'loss')) === 'val_loss';
  if (es !== undefined && monitorVal && val === null) {
    throw new EdgennError('ARG', "early stopping monitors 'val_loss' but there is no validation data; set validationSplit or monitor 'loss'");
  }
  const idx = Int32Array.from({ length: train.n }, (_, i) => i);
  const yb = train.y instanceof Int32Array ? new Int32Array(B * train.targetFloats) : new Float32Array(B * train.targetFloats);
  const pb = model.plan.paramBlock, gb = model.plan.gradBlock;
  const a = model.plan.arena.f32;
  const best = es !== undefined && (es.restoreBest ?? true) ? new Float32Array(pb.floats) : null;
  const paramSlots = model.plan.params;
  const lossCell = model.lossView;
  const acc = new Int32Array(2); // [correct, counted] of the current batch
  const rec: StepRecord = { step: 0, epoch: 0, batch: 0, loss: NaN, accuracy: NaN, lr: opt.lr, batchSize: B, gradNorm: NaN, health: null };

  const epochs: EpochRecord[] = [];
  let stopReason: FitResult['stopReason'] = 'completed';
  let bestLoss = Infinity, bestEpoch = -1, wait = 0;
  for (let epoch = 0; epoch < opts.epochs && stopReason === 'completed'; epoch++) {
    const t0 = performance.now();
    if (shuffle) rng.shuffle(idx);
    let lossSum = 0, correct = 0, counted = 0, seen = 0, batch = 0;
    for (let from = 0; from < train.n; from += B, batch++) {
      const b = Math.min(B, train.n - from);
      if (schedule !== null) opt.lr = scheduleLr(schedule, baseLr, model.stepCount, epoch);
      gather(model, train, idx, from, b, yb);
      const withHealth = healthEvery > 0 && model.stepCount % healthEvery === 0;
      model.zeroGrad();
      model.forwardLoss(b, withHealth);
      const loss = lossCell[0]!;
      acc[0] = 0; acc[1] = 0;
      batchAccuracy(model, yb, b, acc);
      model.backward(b);
      let norm = NaN;
      if (opts.clipGradNorm !== undefined) norm = clipGradNorm(a, gb.at, gb.floats, opts.clipGradNorm);
      else if (withHealth) norm = gradNorm(a, gb.at, gb.floats);
      if (!Number.isFinite(loss) && stopOnNonFinite) {
        stopReason = 'non-finite';
        break;
      }
      model.optimizerStep();
      rec.step = model.stepCount; rec.epoch = epoch; rec.batch = batch; rec.loss = loss;
      rec.accuracy = acc[1]! > 0 ? acc[0]! / acc[1]! : NaN; rec.lr = opt.lr; rec.batchSize = b;
      rec.gradNorm = norm;
      rec.health = withHealth ? healthRecord(model, norm, paramSlots, a, gb.at - pb.at) : null;
      lossSum += loss * b; seen += b; correct += acc[0]!; counted += acc[1]!;
      opts.onStep?.(rec);
    }
    if (stopReason !== 'completed') break;
    const v = val !== null ? evaluate(model, val) : null;
    const er: EpochRecord = {
      epoch, steps: model.stepCount, loss: lossSum / seen, accuracy: counted > 0 ? correct / counted : NaN,
      valLoss: v?.loss ?? null, valAccuracy: v?.accuracy ?? null, lr: opt.lr, seconds: (performance.now() - t0) / 1000,
    };
    epochs.push(er);
    opts.onEpoch?.(er);
    if (opts.checkpointPath !== undefined) saveCheckpoint(opts.checkpointPath, model, { epoch, loss: er.loss, valLoss: er.valLoss });
    const monitored = monitorVal ? (er.valLoss ?? NaN) : er.loss;
    if (!Number.isFinite(monitored) && stopOnNonFinite) { stopReason = 'non-finite'; break; }
    if (monitored < bestLoss - (es?.minDelta ?? 0)) {
      bestLoss = monitored; bestEpoch = epoch; wait = 0;
      if (best !== null) best.set(a.subarray(pb.at, pb.at + pb.floats));
    } else if (es !== undefined && ++wait >= es.patience) {
      stopReason = 'early-stopping';
      if (best !== null && bestEpoch >= 0) a.set(best, pb.at);
    }
  }
  if (schedule !== null) opt.lr = scheduleLr(schedule, baseLr, model.stepCount, epochs.length);
  return { epochs, steps: model.stepCount, stopReason, bestEpoch };
}

function checkOptions(model: Model, o: FitOptions): void {
  const int = (v: number, name: string, min: number): void => {
    if (!Number.isInteger(v) || v < min) throw new EdgennError('ARG', `${name} must be an integer >= ${min}`, { actual: String(v) });
  };
  int(o.epochs, 'epochs', 0);
  int(o.batchSize, 'batchSize', 1);
  if (o.batchSize > model.maxBatch) {
    throw new EdgennError('ARG', 'batchSize exceeds the batch the model was compiled for', { expected: `<= ${model.maxBatch}`, actual: String(o.batchSize) });
  }
  if (o.healthEvery !== undefined) int(o.healthEvery, 'healthEvery', 0);
  if (o.validationSplit !== undefined && !(o.validationSplit >= 0 && o.validationSplit < 1)) {
    throw new EdgennError('ARG', 'validationSplit must be in [0, 1)', { actual: String(o.validationSplit) });
  }
  if (o.clipGradNorm !== undefined && !(o.clipGradNorm > 0)) {
    throw new EdgennError('ARG', 'clipGradNorm must be > 0', { actual: String(o.clipGradNorm) });
  }
  if (o.earlyStopping !== undefined) int(o.earlyStopping.patience, 'earlyStopping.patience', 1);
}

/** Copies rows idx[from..from+b) into the model's input view and its target. */
function gather(model: Model, d: Dataset, idx: Int32Array, from: number, b: number, yb: Float32Array | Int32Array): void {
  const x = model.inputView(0);
  const per = model.plan.inputs[0]!.floats;
  const tf = d.targetFloats;
  for (let r = 0; r < b; r++) {
    const i = idx[from + r]!;
    x.set(d.x.subarray(i * per, (i + 1) * per), r * per);
    for (let k = 0; k < tf; k++) yb[r * tf + k] = d.y[i * tf + k]!;
  }
  model.setTarget(yb, b);
}

/** Adds argmax hits and counted rows of output 0 against class-index targets to acc[0], acc[1]
 * (ignored rows are not counted); a no-op for float targets. */
function batchAccuracy(model: Model, yb: Float32Array | Int32Array, b: number, acc: Int32Array): void {
  if (!model.plan.targetIsIndex) return;
  const out = model.outputView(0);
  const C = model.plan.outputs[0]!.floats;
  for (let r = 0; r < b; r++) {
    const t = yb[r]!;
    if (t < 0 || t >= C) continue;
    let arg = 0;
    for (let c = 1; c < C; c++) if (out[r * C + c]! > out[r * C + arg]!) arg = c;
    acc[1]++;
    if (arg === t) acc[0]++;
  }
}

function healthRecord(model: Model, total: number, params: Model['plan']['params'], a: Float32Array, gradShift: number): HealthRecord {
  return {
    gradNormTotal: total,
    layers: params.map((p) => ({ param: p.name, gradNorm: gradNorm(a, p.at + gradShift, p.floats) })),
    activations: model.health(),
  };
}
