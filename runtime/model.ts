// The compiled model: what a user holds after `compile(graph, { maxBatch, loss?, optimizer? })`.
// Build once, plan once, run many: inputs are copied into preallocated arena views, `forward`
// and `trainStep` run planned instructions, outputs are read from preallocated views. Nothing
// here allocates per call (the views are created once at compile time; `Float32Array.set` and
// `fill` do not allocate). Checks in the public methods are O(1) or O(B) integer work and throw
// EdgennError with the tensor named; kernels never throw.
import { EdgennError } from './errors.js';
import { withoutParamData, type Graph } from './graph/graph.js';
import { plan as makePlan, type Plan, type PlanOptions, type Slot, type ArenaReport } from './graph/plan.js';
import { execute } from './graph/execute.js';
import type { LossSpec } from './losses/spec.js';
import { lossIgnoreIndex } from './losses/dispatch.js';
import { createOptimizer } from './optim/create.js';
import { createWasmKernels, type WasmKernels } from './wasm/kernels.js';
import { wasmOptimizerStep } from './wasm/executor-hooks.js';
import type { Optimizer, OptimizerConfig } from './optim/optimizer.js';

export interface CompileOptions {
  /** largest batch the model runs; smaller batches reuse the same plan and arena */
  readonly maxBatch: number;
  /** training: the loss over graph output 0 */
  readonly loss?: LossSpec;
  /** training: the optimizer (its state lives in the arena) */
  readonly optimizer?: OptimizerConfig;
  /** also compute gradients with respect to the inputs (saliency, tests) */
  readonly inputGrads?: boolean;
  /** record training-health probes (dead ReLUs, saturated sigmoid/tanh units) */
  readonly probes?: boolean;
  /** place the arena in this buffer at byte `base` (e.g. a WebAssembly.Memory's) */
  readonly backing?: PlanOptions['backing'];
  /**
   * Which kernels run dense layers, ReLU and the optimizer update: 'wasm' (WebAssembly SIMD, the
   * arena then lives in the module's memory), 'js' (the pure TypeScript kernels), or 'auto'
   * (default: 'wasm' where WebAssembly SIMD is available, else 'js'). Everything else runs in
   * TypeScript either way, on the same arena.
   */
  readonly kernels?: 'auto' | 'wasm' | 'js';
}

export interface HealthProbe {
  readonly node: string;
  readonly kind: 'dead' | 'sat-sigmoid' | 'sat-tanh';
  /** fraction of dead units (relu) or saturated outputs (sigmoid/tanh) in the last probed step */
  readonly fraction: number;
}

export class Model {
  /** The compiled graph's structure. Its parameters carry no data (init null; withoutParamData):
   * their values live in the arena (param(name)), and the caller's weight arrays are not kept
   * alive by the model. Constants keep theirs. */
  readonly graph: Graph;
  readonly plan: Plan;
  readonly maxBatch: number;
  readonly loss: LossSpec | null;
  readonly optimizer: Optimizer | null;
  /** optimizer steps taken (PyTorch's `t`, 1-based inside the update) */
  stepCount = 0;
  private readonly f32: Float32Array;
  private readonly i32: Int32Array;
  private readonly inViews: Float32Array[];
  private readonly outViews: Float32Array[];
  private readonly ignoreIndex: number;
  private readonly lossCell: Float32Array | null;
  /** the WebAssembly SIMD kernels over this model's arena, or null for the JS kernels */
  readonly kernels: WasmKernels | null;
  private readonly optStep: ((a: Float32Array, p: number, g: number, s: number, n: number, t: number) => void) | null;

  constructor(graph: Graph, opts: CompileOptions) {
    if (opts.optimizer !== undefined && opts.loss === undefined) {
      throw new EdgennError('ARG', 'an optimizer needs a loss to train');
    }
    const optimizer = opts.optimizer !== undefined ? createOptimizer(opts.optimizer) : null;
    const want = opts.kernels ?? 'auto';
    if (want !== 'auto' && want !== 'wasm' && want !== 'js') {
      throw new EdgennError('ARG', 'kernels must be auto, wasm or js', { actual: String(want) });
    }
    if (want === 'wasm' && opts.backing !== undefined) {
      throw new EdgennError('ARG', "kernels 'wasm' place the arena themselves; do not also give a backing buffer");
    }
    let kernels: WasmKernels | null = null;
    const backing: PlanOptions['backing'] = opts.backing ?? (want === 'js' ? undefined : (bytes: number) => {
      kernels = createWasmKernels(bytes);
      if (kernels === null && want === 'wasm') {
        throw new EdgennError('UNSUPPORTED', 'WebAssembly SIMD is not available in this JavaScript engine; use kernels: "js" or "auto"');
      }
      return kernels === null ? null : { buffer: kernels.buffer, base: 0 };
    });
    this.plan = makePlan(graph, {
      maxBatch: opts.maxBatch,
      loss: opts.loss,
      optimizerStateFloats: optimizer?.stateFloatsPerParam ?? 0,
      inputGrads: opts.inputGrads,
      probes: opts.probes,
      backing,
    });
    // NOTE: after planning, which copied every init into the arena
    this.graph = withoutParamData(graph);
    this.kernels = kernels;
    this.optStep = kernels !== null && optimizer !== null ? wasmOptimizerStep(kernels, optimizer) : null;
    this.maxBatch = this.plan.maxBatch;
    this.loss = opts.loss ?? null;
    this.optimizer = optimizer;
    this.f32 = this.plan.arena.f32;
    this.i32 = this.plan.arena.i32;
    const view = (s: Slot): Float32Array => this.f32.subarray(s.at, s.at + s.floats * (s.batched ? this.maxBatch : 1));
    this.inViews = this.plan.inputs.map(view);
    this.outViews = this.plan.outputs.map(view);
    this.ignoreIndex = this.loss !== null ? lossIgnoreIndex(this.loss) : -100;
    this.lossCell = this.plan.lossAt >= 0 ? this.f32.subarray(this.plan.lossAt, this.plan.lossAt + 1) : null;
  }

  get training(): boolean {
    return this.loss !== null;
  }

  /** The arena's layout: bytes by category and the analytic lower bound. */
  get report(): ArenaReport {
    return this.plan.report;
  }

  /** Preallocated view of input i ([maxBatch, ...dims], row-major); write a batch here. */
  inputView(i = 0): Float32Array {
    return this.slotOf(this.inViews, i, 'input');
  }

  /** Preallocated view of output i ([maxBatch, ...dims]); after a run the first b rows hold it. */
  outputView(i = 0): Float32Array {
    return this.slotOf(this.outViews, i, 'output');
  }

  /** Runs the forward pass on the first b rows already in the input views. */
  forward(b: number = this.maxBatch): void {
    this.checkBatch(b);
    execute(this.plan.forward, this.f32, this.i32, b, false, this.kernels);
  }

  /**
   * Copies x (b rows of input 0) in, runs forward, returns the output-0 view (first b rows valid).
   * b defaults to x.length / (floats per sample).
   */
  run(x: ArrayLike<number>, b?: number): Float32Array {
    const n = this.copyIn(0, x, b);
    execute(this.plan.forward, this.f32, this.i32, n, false, this.kernels);
    return this.outViews[0]!;
  }

  /** Writes b rows of targets: class indices (any numeric array) or floats shaped like output 0. */
  setTarget(t: ArrayLike<number>, b: number): void {
    const tg = this.needTraining().target!;
    this.checkBatch(b);
    const per = tg.floats;
    if (t.length < b * per) {
      throw new EdgennError('SHAPE', 'target holds fewer values than the batch needs',
        { tensor: 'target', expected: `${b * per} values`, actual: `${t.length}` });
    }
    if (this.plan.targetIsIndex) {
      const C = this.plan.outputs[0]!.dims[0]!;
      for (let i = 0; i < b; i++) {
        const v = t[i]!;
        if (!(Number.isInteger(v) && ((v >= 0 && v < C) || v === this.ignoreIndex))) {
          throw new EdgennError('DATA', `class index out of range at row ${i}`,
            { tensor: 'target', expected: `an integer in [0, ${C}) or ignore_index ${this.ignoreIndex}`, actual: String(v) });
        }
        this.i32[tg.at + i] = v;
      }
    } else {
      for (let i = 0; i < b * per; i++) this.f32[tg.at + i] = t[i]!;
    }
  }

  /** Loss of the last `computeLoss` / `trainStep`. */
  get lossValue(): number {
    return this.f32[this.needTraining().lossAt]!;
  }

  /** Live one-element view of the loss of the last `computeLoss` / `trainStep`. */
  get lossView(): Float32Array {
    if (this.lossCell === null) throw new EdgennError('STATE', 'model was compiled without a loss (inference only)');
    return this.lossCell;
  }

  /**
   * Forward + loss on the first b rows of the input and target views; returns the loss.
   * `probes` also records the training-health probes (see `health()`).
   */
  computeLoss(b: number = this.maxBatch, probes = false): number {
    this.forwardLoss(b, probes);
    return this.f32[this.plan.lossAt]!;
  }

  /** computeLoss without a return value (read lossView[0]): allocation-free in every caller. */
  forwardLoss(b: number = this.maxBatch, probes = false): void {
    this.needTraining();
    this.checkBatch(b);
    execute(this.plan.forward, this.f32, this.i32, b, probes, this.kernels);
    execute(this.plan.lossForward, this.f32, this.i32, b, false, this.kernels);
  }

  /** Sets every parameter gradient to 0 (gradients accumulate otherwise). */
  zeroGrad(): void {
    const g = this.plan.gradBlock;
    this.f32.fill(0, g.at, g.at + g.floats);
  }

  /** Accumulates gradients of the last computeLoss into the grads block. */
  backward(b: number = this.maxBatch): void {
    this.needTraining();
    this.checkBatch(b);
    execute(this.plan.backward, this.f32, this.i32, b, false, this.kernels);
  }

  /** One optimizer update of every trainable parameter from the grads block. */
  optimizerStep(): void {
    const opt = this.optimizer;
    if (opt === null) throw new EdgennError('STATE', 'model was compiled without an optimizer');
    this.stepCount++;
    const p = this.plan.paramBlock, g = this.plan.gradBlock, s = this.plan.stateBlock;
    if (this.optStep !== null) this.optStep(this.f32, p.at, g.at, s.at, p.floats, this.stepCount);
    else opt.step(this.f32, p.at, g.at, s.at, p.floats, this.stepCount);
  }

  /**
   * One training step on b rows: copy x and targets in, zero grads, forward, loss, backward,
   * optimizer update. The loss before the update (as PyTorch's loop records it) is then in
   * `lossView[0]`.
   * NOTE: deliberately returns nothing: a double returned from a call V8 does not inline is
   * boxed (16 bytes per step); reading lossView[0] never allocates.
   */
  trainStep(x: ArrayLike<number>, target: ArrayLike<number>, b?: number, probes = false): void {
    this.runTrainStep(x, target, b, probes);
  }

  private runTrainStep(x: ArrayLike<number>, target: ArrayLike<number>, b: number | undefined, probes: boolean): void {
    this.needTraining();
    const n = this.copyIn(0, x, b);
    this.setTarget(target, n);
    this.zeroGrad();
    execute(this.plan.forward, this.f32, this.i32, n, probes, this.kernels);
    execute(this.plan.lossForward, this.f32, this.i32, n, false, this.kernels);
    execute(this.plan.backward, this.f32, this.i32, n, false, this.kernels);
    if (this.optimizer !== null) this.optimizerStep();
  }

  /** Results of the training-health probes of the last step run with probes on. */
  health(): HealthProbe[] {
    return this.plan.probes.map((p) => {
      const total = this.f32[p.at + 1]!;
      return { node: p.node, kind: p.kind, fraction: total > 0 ? this.f32[p.at]! / total : 0 };
    });
  }

  /** Names of all parameters (trainable first, then frozen and constants) in graph order. */
  paramNames(): string[] {
    return [...this.plan.params, ...this.plan.constants].map((s) => s.name);
  }

  /** Live view of a parameter's values in the arena (not for the hot path: creates a view). */
  param(name: string): Float32Array {
    const s = this.findParam(name);
    return this.f32.subarray(s.at, s.at + s.floats);
  }

  /** Live view of a trainable parameter's gradient. */
  grad(name: string): Float32Array {
    const s = this.plan.params.find((p) => p.name === name);
    if (s === undefined) {
      throw new EdgennError('ARG', 'no trainable parameter with this name', { tensor: name, expected: this.plan.params.map((p) => p.name).join(', ') });
    }
    const at = s.at - this.plan.paramBlock.at + this.plan.gradBlock.at;
    return this.f32.subarray(at, at + s.floats);
  }

  /** Live view of the gradient with respect to input i (compile with inputGrads). */
  inputGrad(i = 0): Float32Array {
    const s = this.plan.inputGrads[i];
    if (s === undefined) throw new EdgennError('STATE', 'compile with inputGrads: true to get input gradients');
    return this.f32.subarray(s.at, s.at + s.floats * this.maxBatch);
  }

  paramShape(name: string): readonly number[] {
    return this.findParam(name).dims;
  }

  /** Copies parameter values (by name) into the arena, e.g. from a checkpoint or an import. */
  setParam(name: string, data: ArrayLike<number>): void {
    const s = this.findParam(name);
    if (data.length !== s.floats) {
      throw new EdgennError('SHAPE', 'parameter data has the wrong length', { tensor: name, expected: String(s.floats), actual: String(data.length) });
    }
    for (let i = 0; i < s.floats; i++) this.f32[s.at + i] = data[i]!;
  }

  /** The optimizer state slab (for checkpoints). */
  optimizerState(): Float32Array {
    const s = this.plan.stateBlock;
    return this.f32.subarray(s.at, s.at + s.floats);
  }

  private findParam(name: string): Slot {
    const s = this.plan.params.find((p) => p.name === name) ?? this.plan.constants.find((p) => p.name === name);
    if (s === undefined) {
      throw new EdgennError('ARG', 'no parameter with this name', { tensor: name, expected: `one of ${this.paramNames().join(', ')}` });
    }
    return s;
  }

  private copyIn(i: number, x: ArrayLike<number>, b: number | undefined): number {
    const slot = this.plan.inputs[i]!;
    const per = slot.floats;
    // NOTE: `| 0` keeps n a small integer: a double (x.length / per) passed on to the kernels
    // would be boxed into a heap number on every call.
    const q = b ?? x.length / per;
    const n = q | 0;
    if (n !== q || n < 1 || n > this.maxBatch || x.length < n * per) {
      throw new EdgennError('SHAPE', 'input does not hold a whole batch of samples',
        { tensor: slot.name, expected: `b*${per} values with 1 <= b <= ${this.maxBatch}`, actual: `${x.length} values${b !== undefined ? `, b = ${b}` : ''}` });
    }
    const v = this.inViews[i]!;
    if (x instanceof Float32Array && x.length === n * per) v.set(x);
    else for (let k = 0; k < n * per; k++) v[k] = x[k]!;
    return n;
  }

  private checkBatch(b: number): void {
    if (!Number.isInteger(b) || b < 1 || b > this.maxBatch) {
      throw new EdgennError('ARG', 'batch out of range', { expected: `an integer in [1, ${this.maxBatch}]`, actual: String(b) });
    }
  }

  private needTraining(): Plan {
    if (this.loss === null) throw new EdgennError('STATE', 'model was compiled without a loss (inference only)');
    return this.plan;
  }

  private slotOf(views: Float32Array[], i: number, what: string): Float32Array {
    const v = views[i];
    if (v === undefined) throw new EdgennError('ARG', `no ${what} ${i}`, { expected: `index < ${views.length}` });
    return v;
  }
}

/** Compiles a graph for a maximum batch: plans the arena once; returns the runnable model. */
export function compile(graph: Graph, opts: CompileOptions): Model {
  return new Model(graph, opts);
}
