// Instructions: what the planner emits and the executor runs. Every buffer field is an absolute
// element index into the arena's Float32Array (or Int32Array for class targets); -1 means absent.
// Sizes marked "per sample" are multiplied by the batch of the run, so a batch smaller than the
// compiled maximum runs on the same plan. Instructions are built once; running them allocates
// nothing.

export const Ik = {
  DenseF: 0, DenseB: 1,
  ReluF: 2, ReluB: 3,
  LeakyReluF: 4, LeakyReluB: 5,
  SigmoidF: 6, SigmoidB: 7,
  TanhF: 8, TanhB: 9,
  SoftplusF: 10, SoftplusB: 11,
  StepF: 12, SignF: 13,
  SoftmaxF: 14, SoftmaxB: 15,
  LogSoftmaxF: 16, LogSoftmaxB: 17,
  Conv1dF: 18, Conv1dB: 19,
  Zero: 20,
  LossF: 21, LossB: 22,
  Probe: 23,
} as const;

/** dense: x (B, I), w (O, I), b (O) | -1 -> y (B, O) */
export interface DenseF { readonly k: typeof Ik.DenseF; readonly y: number; readonly x: number; readonly w: number; readonly b: number; readonly I: number; readonly O: number }
export interface DenseB { readonly k: typeof Ik.DenseB; readonly dx: number; readonly dw: number; readonly db: number; readonly dy: number; readonly x: number; readonly w: number; readonly I: number; readonly O: number }
/** elementwise: n floats per sample; p0/p1 op parameters (slope, beta, threshold) */
export interface Unary {
  readonly k: typeof Ik.ReluF | typeof Ik.LeakyReluF | typeof Ik.SigmoidF | typeof Ik.TanhF |
    typeof Ik.SoftplusF | typeof Ik.StepF | typeof Ik.SignF;
  readonly y: number; readonly x: number; readonly n: number; readonly p0: number; readonly p1: number;
}
/** elementwise backward: s = the saved tensor the op needs (x or y, see each op's file) */
export interface UnaryB {
  readonly k: typeof Ik.ReluB | typeof Ik.LeakyReluB | typeof Ik.SigmoidB | typeof Ik.TanhB | typeof Ik.SoftplusB;
  readonly dx: number; readonly dy: number; readonly s: number; readonly n: number; readonly p0: number; readonly p1: number;
}
/** softmax / log_softmax over (outer, C, inner); outer is per sample */
export interface SoftmaxF { readonly k: typeof Ik.SoftmaxF | typeof Ik.LogSoftmaxF; readonly y: number; readonly x: number; readonly outer: number; readonly C: number; readonly inner: number }
export interface SoftmaxB { readonly k: typeof Ik.SoftmaxB | typeof Ik.LogSoftmaxB; readonly dx: number; readonly dy: number; readonly y: number; readonly outer: number; readonly C: number; readonly inner: number }
/** conv1d: x (B, C, L), w (O, C, K) -> y (B, O, T) */
export interface Conv1dF {
  readonly k: typeof Ik.Conv1dF; readonly y: number; readonly x: number; readonly w: number; readonly b: number;
  readonly C: number; readonly L: number; readonly O: number; readonly K: number; readonly T: number;
  readonly stride: number; readonly padding: number; readonly dilation: number;
}
export interface Conv1dB {
  readonly k: typeof Ik.Conv1dB; readonly dx: number; readonly dw: number; readonly db: number; readonly dy: number;
  readonly x: number; readonly w: number;
  readonly C: number; readonly L: number; readonly O: number; readonly K: number; readonly T: number;
  readonly stride: number; readonly padding: number; readonly dilation: number;
}
/** zero n floats (per sample when batched, else fixed) */
export interface Zero { readonly k: typeof Ik.Zero; readonly at: number; readonly n: number; readonly batched: boolean }
/** loss forward/backward; the loss file's kernels do the work (see runtime/losses/) */
export interface LossF { readonly k: typeof Ik.LossF; readonly loss: LossInstr }
export interface LossB { readonly k: typeof Ik.LossB; readonly loss: LossInstr }
/**
 * training-health probe after an activation: counts dead units (relu: zero for every sample of
 * the batch) or saturated outputs (sigmoid/tanh) of y (B, n) into out[0] and the total into out[1]
 */
export interface Probe { readonly k: typeof Ik.Probe; readonly kind: 'dead' | 'sat-sigmoid' | 'sat-tanh'; readonly y: number; readonly n: number; readonly out: number }

export type Instr = DenseF | DenseB | Unary | UnaryB | SoftmaxF | SoftmaxB | Conv1dF | Conv1dB | Zero | LossF | LossB | Probe;

/** Everything a loss kernel needs, resolved to arena offsets at plan time. */
export interface LossInstr {
  readonly spec: import('../losses/spec.js').LossSpec;
  readonly attrs: import('../losses/dispatch.js').LossAttrs;
  /** scalar loss */ readonly out: number;
  /** per-row / per-element losses (B, ...) */ readonly rows: number;
  /** scratch (e.g. log-probabilities (B, C) for cross-entropy); -1 when none */ readonly scratch: number;
  /** predictions (B, C) */ readonly pred: number;
  /** gradient of the predictions (B, C) */ readonly dpred: number;
  /** targets: Int32 indices (B) or floats shaped like pred */ readonly target: number;
  /** class weights (C) or pos_weight (C); -1 when none */ readonly weight: number;
  /** upstream gradient of the loss: a scalar holding 1 */ readonly gOut: number;
  /** classes (size of the last dim) and the per-sample size of pred */
  readonly C: number; readonly perSample: number;
  /** perSample / C: rows of C per sample (an integer, kept so no division happens per step) */
  readonly rowsPerSample: number;
}
