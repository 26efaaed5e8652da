// Instructions: what the planner emits and the executor runs. Every buffer field is an absolute
// element index into the arena's Float32Array (or Int32Array for i32 values and class targets, at
// the same index); -1 means absent. Sizes marked "per sample" are multiplied by the batch of the
// run, so a batch smaller than the compiled maximum runs on the same plan; `bt` is 1 when the
// instruction works on batched values and 0 when it works on unbatched (fixed-shape) ones, which
// run once whatever the batch. Instructions are built once (their Int32Array geometry included);
// running them allocates nothing.

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
  MathF: 24, MathB: 25,
  BinaryF: 26, BinaryB: 27,
  WhereF: 28, WhereB: 29,
  MatMulF: 30, MatMulB: 31,
  TransposeF: 32, TransposeB: 33,
  ConcatF: 34, ConcatB: 35,
  GatherF: 36, GatherB: 37,
  ReduceF: 38, ReduceB: 39,
  ArgMaxF: 40,
  CastF: 41,
  CopyF: 42, CopyB: 43,
  Conv2dF: 44, Conv2dB: 45,
  NllF: 46, NllB: 47,
  QuantizeF: 48, DequantizeF: 49, DynQuantizeF: 50, QMatMulF: 51,
  FakeQuantF: 52, FakeQuantB: 53,
  LsqF: 54, LsqB: 55,
  QatTick: 56,
  Int8QuantizeF: 57, Int8DequantizeF: 58, Int8DenseF: 59, Int8Conv1dF: 60,
} as const;

/** dense: x (B, R, I), w (O, I), b (O) | -1 -> y (B, R, O); R rows per sample (1 for [B, I]) */
export interface DenseF { readonly k: typeof Ik.DenseF; readonly y: number; readonly x: number; readonly w: number; readonly b: number; readonly I: number; readonly O: number; readonly R: number; readonly bt: number }
export interface DenseB { readonly k: typeof Ik.DenseB; readonly dx: number; readonly dw: number; readonly db: number; readonly dy: number; readonly x: number; readonly w: number; readonly I: number; readonly O: number; readonly R: number; readonly bt: number }
/** elementwise: n floats per sample; p = op parameters (leaky slope; softplus beta, threshold)
 * NOTE: in a Float64Array, never as double arguments: V8 boxes a double passed to a call it does
 * not inline (a heap allocation per step). */
export interface Unary {
  readonly k: typeof Ik.ReluF | typeof Ik.LeakyReluF | typeof Ik.SigmoidF | typeof Ik.TanhF |
    typeof Ik.SoftplusF | typeof Ik.StepF | typeof Ik.SignF;
  readonly y: number; readonly x: number; readonly n: number; readonly p: Float64Array; readonly bt: number;
}
/** elementwise backward: s = the saved tensor the op needs (x or y, see each op's file) */
export interface UnaryB {
  readonly k: typeof Ik.ReluB | typeof Ik.LeakyReluB | typeof Ik.SigmoidB | typeof Ik.TanhB | typeof Ik.SoftplusB;
  readonly dx: number; readonly dy: number; readonly s: number; readonly n: number; readonly p: Float64Array; readonly bt: number;
}
/** softmax / log_softmax over (outer, C, inner); outer is per sample */
export interface SoftmaxF { readonly k: typeof Ik.SoftmaxF | typeof Ik.LogSoftmaxF; readonly y: number; readonly x: number; readonly outer: number; readonly C: number; readonly inner: number; readonly bt: number }
export interface SoftmaxB { readonly k: typeof Ik.SoftmaxB | typeof Ik.LogSoftmaxB; readonly dx: number; readonly dy: number; readonly y: number; readonly outer: number; readonly C: number; readonly inner: number; readonly bt: number }
/** float math family (runtime/ops/unary.ts): n per sample; backward reads x; p = [p0, p1]
 * NOTE: double parameters of the new instructions travel in Float64Arrays: a double passed as a
 * call argument is boxed (allocated) unless V8 inlines the kernel */
export interface MathF { readonly k: typeof Ik.MathF; readonly fn: number; readonly y: number; readonly x: number; readonly n: number; readonly p: Float64Array; readonly bt: number }
export interface MathB { readonly k: typeof Ik.MathB; readonly fn: number; readonly dx: number; readonly dy: number; readonly x: number; readonly n: number; readonly p: Float64Array; readonly bt: number }
/** broadcast walk shared by binary and where (runtime/ops/broadcast.ts) */
export interface Walk { readonly per: number; readonly rank: number; readonly shape: Int32Array; readonly idx: Int32Array }
export interface BinaryF extends Walk { readonly k: typeof Ik.BinaryF; readonly fn: number; readonly wrap: number; readonly y: number; readonly x0: number; readonly x1: number; readonly os0: number; readonly os1: number; readonly st0: Int32Array; readonly st1: Int32Array; readonly bt: number }
/** accumulates into the gradient of input `side` (0 or 1) */
export interface BinaryB extends Walk { readonly k: typeof Ik.BinaryB; readonly fn: number; readonly side: number; readonly dx: number; readonly dy: number; readonly x0: number; readonly x1: number; readonly os0: number; readonly os1: number; readonly st0: Int32Array; readonly st1: Int32Array; readonly bt: number }
export interface WhereF extends Walk { readonly k: typeof Ik.WhereF; readonly y: number; readonly c: number; readonly x0: number; readonly x1: number; readonly osc: number; readonly os0: number; readonly os1: number; readonly stc: Int32Array; readonly st0: Int32Array; readonly st1: Int32Array; readonly bt: number }
export interface WhereB extends Walk { readonly k: typeof Ik.WhereB; readonly side: number; readonly dx: number; readonly dy: number; readonly c: number; readonly osc: number; readonly osx: number; readonly stc: Int32Array; readonly stx: Int32Array; readonly bt: number }
/** matmul geometry (runtime/ops/matmul.ts) */
export interface MatMulGeo {
  readonly osA: number; readonly osB: number; readonly osY: number; readonly P: number; readonly offA: Int32Array; readonly offB: Int32Array;
  readonly M: number; readonly K: number; readonly N: number; readonly sAm: number; readonly sAk: number; readonly sBk: number; readonly sBn: number;
}
export interface MatMulF extends MatMulGeo { readonly k: typeof Ik.MatMulF; readonly y: number; readonly a: number; readonly b: number; readonly alpha: Float64Array; readonly bt: number }
export interface MatMulB extends MatMulGeo { readonly k: typeof Ik.MatMulB; readonly da: number; readonly db: number; readonly dy: number; readonly a: number; readonly b: number; readonly alpha: Float64Array; readonly bt: number }
export interface TransposeF extends Walk { readonly k: typeof Ik.TransposeF | typeof Ik.TransposeB; readonly y: number; readonly x: number; readonly st: Int32Array; readonly bt: number }
/** one input of a concat: rows per sample, chunk per row, output rows yRow long, at column off */
export interface ConcatF { readonly k: typeof Ik.ConcatF | typeof Ik.ConcatB; readonly y: number; readonly x: number; readonly rows: number; readonly chunk: number; readonly yRow: number; readonly off: number; readonly bt: number }
export interface GatherF { readonly k: typeof Ik.GatherF | typeof Ik.GatherB; readonly y: number; readonly x: number; readonly ind: number; readonly rows: number; readonly xRow: number; readonly indRow: number; readonly nInd: number; readonly D: number; readonly inner: number; readonly bt: number }
export interface ReduceF { readonly k: typeof Ik.ReduceF | typeof Ik.ReduceB; readonly y: number; readonly x: number; readonly perIn: number; readonly perOut: number; readonly rank: number; readonly shape: Int32Array; readonly ost: Int32Array; readonly idx: Int32Array; readonly mean: boolean; readonly count: number; readonly bt: number }
export interface ArgMaxF { readonly k: typeof Ik.ArgMaxF; readonly y: number; readonly x: number; readonly outer: number; readonly C: number; readonly inner: number; readonly selectLast: boolean; readonly bt: number }
export interface CastF { readonly k: typeof Ik.CastF; readonly y: number; readonly x: number; readonly n: number; readonly fromF32: boolean; readonly toF32: boolean; readonly wrap: number; readonly bt: number }
/** copy y <- x (CopyF), or dx += dy (CopyB: backward of copy and float casts), n per sample */
export interface CopyF { readonly k: typeof Ik.CopyF | typeof Ik.CopyB; readonly y: number; readonly x: number; readonly n: number; readonly bt: number }
export interface Conv2dGeo {
  readonly N: number; readonly C: number; readonly H: number; readonly W: number; readonly O: number; readonly KH: number; readonly KW: number;
  readonly OH: number; readonly OW: number; readonly sh: number; readonly sw: number; readonly pt: number; readonly pl: number;
  readonly dilH: number; readonly dilW: number; readonly G: number;
}
export interface Conv2dF extends Conv2dGeo { readonly k: typeof Ik.Conv2dF; readonly y: number; readonly x: number; readonly w: number; readonly b: number; readonly bt: number }
export interface Conv2dB extends Conv2dGeo { readonly k: typeof Ik.Conv2dB; readonly dx: number; readonly dw: number; readonly db: number; readonly dy: number; readonly x: number; readonly w: number; readonly bt: number }
/** graph NLL (runtime/ops/nll-loss.ts): N rows per sample. Backward instructions that reuse a
 * forward layout (TransposeB, ConcatB, GatherB, ReduceB, CopyB, NllB) put the input's gradient
 * in x (logp for NllB) and the output's gradient in y. */
export interface NllF { readonly k: typeof Ik.NllF | typeof Ik.NllB; readonly y: number; readonly logp: number; readonly target: number; readonly w: number; readonly N: number; readonly C: number; readonly D: number; readonly reduction: number; readonly hasIgnore: boolean; readonly ignore: number; readonly bt: number }
/** quantize (QuantizeF) / dequantize (DequantizeF): x (rows, D, inner), rows per sample */
export interface QuantF { readonly k: typeof Ik.QuantizeF | typeof Ik.DequantizeF; readonly y: number; readonly x: number; readonly s: number; readonly zp: number; readonly rows: number; readonly D: number; readonly inner: number; readonly mode: number; readonly bs: number; readonly qmin: number; readonly qmax: number; readonly bt: number }
export interface DynQuantF { readonly k: typeof Ik.DynQuantizeF; readonly y: number; readonly s: number; readonly zp: number; readonly x: number; readonly n: number; readonly bt: number }
export interface QMatMulF extends MatMulGeo {
  readonly k: typeof Ik.QMatMulF; readonly y: number; readonly a: number; readonly b: number;
  readonly azp: number; readonly nAzp: number; readonly bzp: number; readonly nBzp: number;
  readonly aS: number; readonly nAs: number; readonly bS: number; readonly nBs: number; readonly yS: number; readonly yzp: number;
  readonly qmin: number; readonly qmax: number; readonly bt: number;
}
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

/** fake-quant site (runtime/ops/fake-quant-op.ts): x (outer, C, inner), outer per sample when
 * bt = 1; st the f32 state [4C], ctl the i32 QAT control block; p = [averaging] */
export interface FakeQuantF {
  readonly k: typeof Ik.FakeQuantF; readonly y: number; readonly x: number; readonly st: number; readonly ctl: number;
  readonly outer: number; readonly C: number; readonly inner: number; readonly kind: number; readonly p: Float64Array;
  readonly scheme: import('../quant/qparams.js').QScheme; readonly rule: import('../quant/qparams.js').QParamsRule;
  readonly mode: import('../quant/fake-quant.js').RoundingMode; readonly freezeAt: number; readonly fqFrom: number; readonly bt: number;
}
export interface FakeQuantB {
  readonly k: typeof Ik.FakeQuantB; readonly dx: number; readonly dy: number; readonly x: number; readonly st: number; readonly ctl: number;
  readonly outer: number; readonly C: number; readonly inner: number; readonly qmin: number; readonly qmax: number;
  readonly mode: import('../quant/fake-quant.js').RoundingMode; readonly freezeAt: number; readonly fqFrom: number; readonly bt: number;
}
/** LSQ site: sc / zp the trainable scale and zero point (C each), st the observer state or -1;
 * p = [averaging, eps, qmax, gradScaling] */
export interface LsqF {
  readonly k: typeof Ik.LsqF; readonly y: number; readonly x: number; readonly sc: number; readonly zp: number; readonly st: number; readonly ctl: number;
  readonly outer: number; readonly C: number; readonly inner: number; readonly kind: number; readonly p: Float64Array;
  readonly scheme: import('../quant/qparams.js').QScheme; readonly rule: import('../quant/qparams.js').QParamsRule;
  readonly freezeAt: number; readonly fqFrom: number; readonly bt: number;
}
/** dx / dsc / dzp: -1 when not needed; gf a 1-element scratch for the gradient factor */
export interface LsqB {
  readonly k: typeof Ik.LsqB; readonly dx: number; readonly dsc: number; readonly dzp: number; readonly dy: number; readonly x: number;
  readonly sc: number; readonly zp: number; readonly ctl: number; readonly outer: number; readonly C: number; readonly inner: number;
  readonly qmin: number; readonly qmax: number; readonly perTensor: boolean; readonly p: Float64Array; readonly gf: Float64Array;
  readonly freezeAt: number; readonly fqFrom: number; readonly bt: number;
}
/** the QAT step counter (ia[at]) += 1: the last instruction of a backward pass */
export interface QatTick { readonly k: typeof Ik.QatTick; readonly at: number }
/** the arena's byte views, filled in once the planner has made the arena (int8 instructions
 * address 1-byte values by byte index) */
export interface ByteViews { i8: Int8Array; u8: Uint8Array }
/** int8 quantize / dequantize: n values per sample; q a byte index (signed: arena.i8, else u8);
 * qp the f32 index of [scale, zero point] */
export interface Int8QuantF {
  readonly k: typeof Ik.Int8QuantizeF | typeof Ik.Int8DequantizeF; readonly y: number; readonly x: number; readonly qp: number;
  readonly n: number; readonly signed: boolean; readonly qmin: number; readonly qmax: number;
  readonly mode: import('../quant/fake-quant.js').RoundingMode; readonly v: ByteViews; readonly bt: number;
}
/** int8 dense (rows R per sample, I, O) / conv1d (C, L, O, K, T): x, w, y byte indices; rq the
 * i32 index of [weight zero points (O) | multipliers (O) | shifts (O)], bias i32 index or -1 */
export interface Int8LinearF {
  readonly k: typeof Ik.Int8DenseF | typeof Ik.Int8Conv1dF; readonly y: number; readonly x: number; readonly w: number;
  readonly rq: number; readonly bias: number; readonly xs: boolean; readonly ys: boolean; readonly ws: boolean;
  /** i32 index of the int32 sums (rows, O) for the SIMD path; simd: that path is allowed */
  readonly acc: number; readonly simd: boolean;
  readonly xZero: number; readonly yZero: number; readonly actMin: number; readonly actMax: number;
  readonly R: number; readonly I: number; readonly O: number;
  readonly C: number; readonly L: number; readonly K: number; readonly T: number; readonly stride: number; readonly padding: number; readonly dilation: number;
  readonly v: ByteViews; readonly bt: number;
}

export type Instr = DenseF | DenseB | Unary | UnaryB | SoftmaxF | SoftmaxB | Conv1dF | Conv1dB | Zero | LossF | LossB | Probe |
  MathF | MathB | BinaryF | BinaryB | WhereF | WhereB | MatMulF | MatMulB | TransposeF | ConcatF | GatherF | ReduceF |
  ArgMaxF | CastF | CopyF | Conv2dF | Conv2dB | NllF | QuantF | DynQuantF | QMatMulF |
  FakeQuantF | FakeQuantB | LsqF | LsqB | QatTick | Int8QuantF | Int8LinearF;

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
