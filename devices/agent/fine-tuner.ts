// On-device fine-tuning with automatic rollback. The graph is compiled a second time for training
// (batch = fineTune.batchSize, with the loss, the optimizer and the health probes: its own arena),
// separate from the inference compile so serving never sees half-trained weights. A run:
//   1. snapshot the sample buffer, split it (seeded) into train and validation rows;
//   2. validation loss of the current weights (= the last good checkpoint's);
//   3. `fit` one epoch at a time, yielding to the event loop between epochs (inference keeps
//      being served; a stop command aborts between epochs);
//   4. validation loss after. NaN/Inf anywhere (a training loss, the validation loss, a weight)
//      or a validation loss higher than before → the run is reported as rolled back (the
//      inference model never saw its weights; the next run starts from the last good checkpoint
//      again: parameters, optimizer state, step count); otherwise a new checkpoint becomes the last good one (the oldest beyond
//      keepCheckpoints are deleted) and the weights are copied, by name, into the inference model.
// The training compile exists only during a run: it is made at the start of each run and loaded
// from the last good checkpoint (parameters, optimizer state, step count: exactly what it held
// when the previous run ended, since a checkpoint reloads bit for bit), and let go at the end, so
// an idle agent does not hold a training arena (3.96 MB for 784-256-128-10 at batch 32 with
// Adam) on a board with 512 MB. A rolled-back run needs no restore for the same reason.
// Checkpoints live in <stateDir>/checkpoints/<first 16 hex of the model hash>/ckpt-<n>.ckpt, so a
// new model (an update) never loads the weights of another; on start the newest readable one of
// the current model is loaded (the agent resumes its fine-tuned weights after a restart);
// without one, the served weights, copied by name from the inference model, become checkpoint #0
// (the agent hands over its graph without parameter data, runtime/graph withoutParamData: the
// checkpoints and the inference model are where the fine-tuner's weights come from).
//
// It is not a scheduler: the agent decides when to call run() (count, timer, command).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { EdgennError } from '../../runtime/errors.js';
import type { Graph } from '../../runtime/graph/graph.js';
import { lossTakesIndices } from '../../runtime/losses/spec.js';
import { compile, type Model } from '../../runtime/model.js';
import { Rng } from '../../runtime/random.js';
import { loadCheckpoint, saveCheckpoint } from '../../runtime/train/checkpoint.js';
import { evaluate, fit, subset } from '../../runtime/train/trainer.js';
import type { StepRecord } from '../../runtime/train/types.js';
import type { MetricRing } from '../telemetry/metric-ring.js';
import type { FineTuneConfig } from './config.js';
import type { InferenceEngine } from './inference.js';
import { SampleBuffer } from './sample-buffer.js';

/** The sample buffer fine-tuning with `c` needs for a model with these per-sample dims. */
export function sampleBufferFor(c: FineTuneConfig, inputDims: readonly number[], outputDims: readonly number[]): SampleBuffer {
  return new SampleBuffer({
    capacity: c.bufferSize,
    inputDims,
    target: lossTakesIndices(c.loss)
      ? { kind: 'index', classes: outputDims[outputDims.length - 1]! }
      : { kind: 'floats', floats: outputDims.reduce((a, b) => a * b, 1) },
  });
}

export type FineTuneTrigger = 'count' | 'schedule' | 'command' | 'local';

export interface FineTuneOutcome {
  /** true: the new weights are being served; false: nothing changed (skipped or rolled back). */
  readonly accepted: boolean;
  readonly status: 'improved' | 'rolled-back' | 'skipped';
  /** Why it was rolled back or skipped. */
  readonly reason?: 'worse' | 'non-finite' | 'stopped' | 'too-few-samples' | 'busy';
  readonly trigger: FineTuneTrigger;
  readonly samples: number;
  readonly trainSamples: number;
  readonly valSamples: number;
  readonly steps: number;
  readonly valLossBefore: number | null;
  readonly valLossAfter: number | null;
  readonly valAccuracyAfter: number | null;
  /** The checkpoint now considered last good (file name only). */
  readonly checkpoint: string | null;
  readonly ms: number;
}

export interface FineTunerOptions {
  readonly graph: Graph;
  readonly config: FineTuneConfig;
  /** <stateDir>/checkpoints */
  readonly checkpointRoot: string;
  readonly modelHash: string;
  readonly ring: MetricRing;
  readonly inference: InferenceEngine;
  /** The agent's sample buffer (it outlives a model swap: the signature is fixed by the config). */
  readonly buffer: SampleBuffer;
  readonly log?: (line: string) => void;
  /** Steps between training-health measurements. Default 10. */
  readonly healthEvery?: number;
}

const CKPT_RE = /^ckpt-(\d{8})\.ckpt$/;

const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

function jsonNum(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

export class FineTuner {
  readonly buffer: SampleBuffer;
  readonly dir: string;
  /** bytes of the training arena, allocated only while a run (or the start-up resume) needs it */
  readonly arenaBytes: number;
  readonly config: FineTuneConfig;
  private readonly o: FineTunerOptions;
  private readonly gradNorms: Float64Array;   // (L,) per trainable parameter, for the ring
  private next = 0;                           // number of the next checkpoint file
  private lastGoodFile: string;
  private running = false;
  private stopRequested = false;
  runs = 0;
  accepted = 0;
  rolledBack = 0;
  last: FineTuneOutcome | null = null;

  constructor(o: FineTunerOptions) {
    this.o = o;
    const c = o.config;
    this.config = c;
    const m = this.compile();
    this.arenaBytes = m.report.totalBytes;
    this.buffer = o.buffer;
    if (this.buffer.inputFloats !== m.plan.inputs[0]!.floats) {
      throw new EdgennError('SHAPE', 'sample buffer does not match the model input', { expected: `${m.plan.inputs[0]!.floats} floats`, actual: `${this.buffer.inputFloats}` });
    }
    this.gradNorms = new Float64Array(m.plan.params.length);
    this.dir = path.join(o.checkpointRoot, o.modelHash.slice(0, 16));
    try {
      fs.mkdirSync(this.dir, { recursive: true });
    } catch (e) {
      throw new EdgennError('IO', `cannot create checkpoint folder: ${(e as Error).message}`, { file: this.dir });
    }
    // Resume: the newest checkpoint of this model that loads; else the served weights become #0.
    const found = this.list();
    let loaded: string | null = null;
    for (let i = found.length - 1; i >= 0 && loaded === null; i--) {
      try {
        loadCheckpoint(path.join(this.dir, found[i]!.file), m);
        loaded = found[i]!.file;
      } catch (e) {
        this.log(`checkpoint ${found[i]!.file} unusable, trying an older one: ${(e as Error).message}`);
      }
    }
    this.next = found.length > 0 ? found[found.length - 1]!.n + 1 : 0;
    if (loaded !== null) {
      o.inference.copyParamsFrom(m);
      this.lastGoodFile = loaded;
    } else {
      for (const name of m.paramNames()) m.param(name).set(o.inference.model.param(name));
      this.lastGoodFile = this.save(m, { kind: 'initial' });
    }
    // the training arena is let go until the next run (m is garbage from here)
  }

  private compile(): Model {
    const c = this.o.config;
    return compile(this.o.graph, { maxBatch: c.batchSize, loss: c.loss, optimizer: c.optimizer, probes: true });
  }

  /** The training compile for a run, in the state of the last good checkpoint (parameters,
   * optimizer state, step count: what the model held when the previous run ended). If that file
   * no longer loads (damaged since), training restarts from the served weights with a fresh
   * optimizer state, saved as the new last good checkpoint. */
  private acquire(): Model {
    const m = this.compile();
    try {
      loadCheckpoint(path.join(this.dir, this.lastGoodFile), m);
    } catch (e) {
      this.log(`checkpoint ${this.lastGoodFile} unusable, restarting from the served weights: ${(e as Error).message}`);
      for (const name of m.paramNames()) m.param(name).set(this.o.inference.model.param(name));
      this.lastGoodFile = this.save(m, { kind: 'initial' });
    }
    return m;
  }

  /** Names of the trainable parameters, in the order of the health gradient norms. */
  static layerNames(graph: Graph): string[] {
    return graph.values.filter((v) => v.role === 'param' && v.trainable).map((v) => v.name);
  }

  get busy(): boolean {
    return this.running;
  }

  get lastGood(): string {
    return this.lastGoodFile;
  }

  private log(line: string): void {
    this.o.log?.(line);
  }

  private list(): Array<{ n: number; file: string }> {
    let names: string[];
    try { names = fs.readdirSync(this.dir); } catch { names = []; }
    const out: Array<{ n: number; file: string }> = [];
    for (const f of names) {
      const m = CKPT_RE.exec(f);
      if (m !== null) out.push({ n: Number(m[1]), file: f });
    }
    return out.sort((a, b) => a.n - b.n);
  }

  private save(m: Model, meta: Record<string, unknown>): string {
    const file = `ckpt-${String(this.next++).padStart(8, '0')}.ckpt`;
    saveCheckpoint(path.join(this.dir, file), m, { ...meta, modelHash: this.o.modelHash });
    const all = this.list();
    for (let i = 0; i < all.length - this.o.config.keepCheckpoints; i++) {
      try { fs.unlinkSync(path.join(this.dir, all[i]!.file)); } catch { /* already gone */ }
    }
    return file;
  }

  /** Asks a running fine-tune to stop after its current epoch (it is then rolled back). */
  requestStop(): void {
    if (this.running) this.stopRequested = true;
  }

  private recordStep = (r: Readonly<StepRecord>): void => {
    this.o.ring.recordTrainStep(r.loss, r.accuracy);
    const h = r.health;
    if (h === null) return;
    const L = Math.min(h.layers.length, this.gradNorms.length);
    for (let i = 0; i < L; i++) this.gradNorms[i] = h.layers[i]!.gradNorm;
    let dead = 0, nd = 0, sat = 0, ns = 0;
    for (const a of h.activations) {
      if (a.kind === 'dead') { dead += a.fraction; nd++; } else { sat += a.fraction; ns++; }
    }
    this.o.ring.recordHealth(this.gradNorms, nd > 0 ? dead / nd : 0, ns > 0 ? sat / ns : 0);
  };

  private static paramsFinite(m: Model): boolean {
    const pb = m.plan.paramBlock;
    const a = m.plan.arena.f32;
    for (let i = pb.at; i < pb.at + pb.floats; i++) if (!Number.isFinite(a[i]!)) return false;
    return true;
  }

  /** One fine-tune over the buffered samples; see the file header. Never throws for a bad run:
   * the outcome says what happened. */
  async run(trigger: FineTuneTrigger): Promise<FineTuneOutcome> {
    const t0 = performance.now();
    const c = this.o.config;
    const n = this.buffer.count;
    const skipped = (reason: 'too-few-samples' | 'busy'): FineTuneOutcome => ({
      accepted: false, status: 'skipped', reason, trigger, samples: n, trainSamples: 0, valSamples: 0, steps: 0,
      valLossBefore: null, valLossAfter: null, valAccuracyAfter: null, checkpoint: this.lastGoodFile, ms: 0,
    });
    if (this.running) return skipped('busy');
    if (n < c.minSamples || n < 2) return skipped('too-few-samples');
    this.running = true;
    this.stopRequested = false;
    this.runs++;
    try {
      // the training arena (parameters, gradients, optimizer state, activations) lives as long as m
      const m = this.acquire();
      // ---- split (seeded per run, so successive runs see different validation rows) ----
      const data = this.buffer.snapshot();
      this.buffer.markUsed();
      const order = Int32Array.from({ length: n }, (_, i) => i);
      new Rng((c.seed + this.runs * 7919) >>> 0).shuffle(order);
      const nVal = Math.min(n - 1, Math.max(1, Math.round(n * c.validationSplit)));
      const val = subset(data, order, n - nVal, nVal);
      const train = subset(data, order, 0, n - nVal);
      const before = evaluate(m, val).loss;
      const steps0 = m.stepCount;

      let reason: 'non-finite' | 'stopped' | 'worse' | null = null;
      for (let e = 0; e < c.epochs; e++) {
        const res = fit(m, train, {
          epochs: 1, batchSize: Math.min(c.batchSize, train.n), seed: (c.seed + this.runs * 104729 + e) >>> 0,
          healthEvery: this.o.healthEvery ?? 10, onStep: this.recordStep,
          ...(c.clipGradNorm !== undefined ? { clipGradNorm: c.clipGradNorm } : {}),
        });
        if (res.stopReason === 'non-finite' || !FineTuner.paramsFinite(m)) { reason = 'non-finite'; break; }
        await yieldToLoop();
        if (this.stopRequested) { reason = 'stopped'; break; }
      }
      let after = NaN, accAfter = NaN;
      if (reason === null) {
        const ev = evaluate(m, val);
        after = ev.loss;
        accAfter = ev.accuracy;
        if (!Number.isFinite(after)) reason = 'non-finite';
        // NOTE: "worse" is strict: an equal loss (e.g. a model already at its optimum) is kept.
        else if (!(after <= before)) reason = 'worse';
      }
      const steps = m.stepCount - steps0;
      const common = {
        trigger, samples: n, trainSamples: train.n, valSamples: val.n, steps,
        valLossBefore: jsonNum(before), valLossAfter: jsonNum(after), valAccuracyAfter: jsonNum(accAfter),
      };
      let out: FineTuneOutcome;
      if (reason !== null) {
        // nothing to restore: the next run starts from the last good checkpoint again
        this.rolledBack++;
        out = { accepted: false, status: 'rolled-back', reason, ...common, checkpoint: this.lastGoodFile, ms: performance.now() - t0 };
        this.log(`fine-tune rolled back (${reason}): val loss ${before} -> ${after}`);
      } else {
        this.lastGoodFile = this.save(m, { kind: 'fine-tune', valLossBefore: before, valLossAfter: after, samples: n });
        this.o.inference.copyParamsFrom(m);
        this.accepted++;
        out = { accepted: true, status: 'improved', ...common, checkpoint: this.lastGoodFile, ms: performance.now() - t0 };
        this.log(`fine-tune accepted: val loss ${before} -> ${after}, ${steps} steps`);
      }
      this.last = out;
      return out;
    } finally {
      // NOTE: on an unexpected failure (a bug, a full disk while saving) the error propagates;
      // serving goes on with the last good weights, which the inference model still has, and the
      // next run starts from them again.
      this.running = false;
      this.stopRequested = false;
    }
  }
}
