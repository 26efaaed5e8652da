// The graph a model is built into: values (tensors without storage) and nodes (ops), in
// topological order as the builder appends them. It is data only: the builder checks shapes,
// the planner gives values storage, the executor runs the plan.
//
// Shapes: a *batched* value has a leading batch dimension that is not stored in `dims`; its real
// shape is [b, ...dims] for the batch b of a run (b <= the compiled maximum). Parameters and
// constants are unbatched: their shape is exactly `dims`. Inputs and activations may be unbatched
// too (static shapes, e.g. an ONNX model without a dynamic batch axis, or shape arithmetic): an
// unbatched value is the same for every run whatever the batch.
//
// Element types: 'f32' and 'i32' values occupy 4-byte cells of the arena. 'f32' values are read
// through the Float32Array view, 'i32' values (indices, masks, booleans as 0/1, small integers)
// through the Int32Array view at the same index. Importers map their richer types onto these two
// (see importers/onnx/import.ts for ONNX's float64/int64/int8/uint8/bool). 'i8' / 'u8' values
// (the codes of a converted int8 model) take one byte each and are addressed by byte index.

/** Op kinds: a numeric tag per op so dispatch is an exhaustive switch, never a string lookup. */
export const Op = {
  Dense: 0,
  Relu: 1,
  LeakyRelu: 2,
  Sigmoid: 3,
  Tanh: 4,
  Softplus: 5,
  Step: 6,
  Sign: 7,
  Softmax: 8,
  LogSoftmax: 9,
  Conv1d: 10,
  Reshape: 11,
  /** float elementwise math (exp, log, elu, gelu, clip, ...): runtime/ops/unary.ts */
  Math: 12,
  /** two-input elementwise op with broadcasting (add, mul, pow, max, equal, ...): runtime/ops/binary.ts */
  Binary: 13,
  /** where(cond, x, y) with broadcasting: runtime/ops/where.ts */
  Where: 14,
  /** (batched) matrix product with broadcasting over leading dims: runtime/ops/matmul.ts */
  MatMul: 15,
  Transpose: 16,
  Concat: 17,
  Gather: 18,
  /** sum / mean over axes: runtime/ops/reduce.ts */
  Reduce: 19,
  ArgMax: 20,
  /** element type conversion (f32 <-> i32, integer wrap-around): runtime/ops/cast.ts */
  Cast: 21,
  /** a copy (graph outputs that would otherwise alias an input or a constant) */
  Copy: 22,
  /** 2-D convolution (1-D as H = 1) with groups and asymmetric padding: runtime/ops/conv2d.ts */
  Conv2d: 23,
  /** negative log-likelihood over (N, C, D) log-probabilities: runtime/ops/nll-loss.ts */
  NllLoss: 24,
  /** QuantizeLinear / DequantizeLinear (per tensor, per axis, blocked): runtime/ops/quantize.ts */
  Quantize: 25,
  Dequantize: 26,
  /** DynamicQuantizeLinear: y (uint8), scale, zero point from the tensor's own range */
  DynQuantize: 27,
  /** QLinearMatMul and MatMulInteger: integer matmul with zero points (and requantization) */
  QMatMul: 28,
  /** QAT fake quantization with an observer (runtime/ops/fake-quant-op.ts) */
  FakeQuant: 29,
  /** LSQ: fake quantization with trainable scale / zero point (runtime/ops/fake-quant-op.ts) */
  LearnableFakeQuant: 30,
  /** float -> int8/uint8 codes in 1-byte cells ('i8' / 'u8' values): runtime/ops/int8-op.ts */
  Int8Quantize: 31,
  /** int8/uint8 codes in 1-byte cells -> float */
  Int8Dequantize: 32,
  /** integer dense / conv1d with int32 accumulation and fixed-point requantization */
  Int8Linear: 33,
} as const;
export type OpKind = (typeof Op)[keyof typeof Op];

export const OP_NAMES: Readonly<Record<OpKind, string>> = {
  [Op.Dense]: 'dense',
  [Op.Relu]: 'relu',
  [Op.LeakyRelu]: 'leaky_relu',
  [Op.Sigmoid]: 'sigmoid',
  [Op.Tanh]: 'tanh',
  [Op.Softplus]: 'softplus',
  [Op.Step]: 'step',
  [Op.Sign]: 'sign',
  [Op.Softmax]: 'softmax',
  [Op.LogSoftmax]: 'log_softmax',
  [Op.Conv1d]: 'conv1d',
  [Op.Reshape]: 'reshape',
  [Op.Math]: 'math',
  [Op.Binary]: 'binary',
  [Op.Where]: 'where',
  [Op.MatMul]: 'matmul',
  [Op.Transpose]: 'transpose',
  [Op.Concat]: 'concat',
  [Op.Gather]: 'gather',
  [Op.Reduce]: 'reduce',
  [Op.ArgMax]: 'argmax',
  [Op.Cast]: 'cast',
  [Op.Copy]: 'copy',
  [Op.Conv2d]: 'conv2d',
  [Op.NllLoss]: 'nll_loss',
  [Op.Quantize]: 'quantize',
  [Op.Dequantize]: 'dequantize',
  [Op.DynQuantize]: 'dynamic_quantize',
  [Op.QMatMul]: 'qmatmul',
  [Op.FakeQuant]: 'fake_quant',
  [Op.LearnableFakeQuant]: 'learnable_fake_quant',
  [Op.Int8Quantize]: 'int8_quantize',
  [Op.Int8Dequantize]: 'int8_dequantize',
  [Op.Int8Linear]: 'int8_linear',
};

export interface NoAttrs { readonly _?: never }
export interface LeakyReluAttrs { readonly negativeSlope: number }
export interface SoftplusAttrs { readonly beta: number; readonly threshold: number }
/** softmax/log_softmax over one axis of the per-sample dims (0-based, after the batch dim) */
export interface SoftmaxAttrs { readonly axis: number }
export interface Conv1dAttrs {
  readonly stride: number;
  readonly padding: number;
  readonly dilation: number;
}

/** Math: fn is a UnaryFn (runtime/ops/unary.ts); p0/p1 its parameters (alpha, gamma, min, max) */
export interface MathAttrs { readonly fn: number; readonly p0: number; readonly p1: number }
/** Binary: fn is a BinaryFn (runtime/ops/binary.ts); wrap is the integer result type (IntWrap) */
export interface BinaryAttrs { readonly fn: number; readonly wrap: number }
export interface MatMulAttrs { readonly transA: boolean; readonly transB: boolean; readonly alpha: number }
/** perm over the full dims (batch axis first when batched; it must stay first) */
export interface TransposeAttrs { readonly perm: readonly number[] }
/** axes count the full dims (batch axis = 0 when batched) */
export interface AxisAttrs { readonly axis: number }
export interface ReduceAttrs { readonly fn: number; readonly axes: readonly number[]; readonly keepDims: boolean }
export interface ArgMaxAttrs { readonly axis: number; readonly keepDims: boolean; readonly selectLastIndex: boolean }
/** Cast: to the storage type of the output; wrap = integer result type (IntWrap) */
export interface CastAttrs { readonly wrap: number }
export interface Conv2dAttrs {
  readonly strides: readonly [number, number];
  /** top, left, bottom, right */
  readonly pads: readonly [number, number, number, number];
  readonly dilations: readonly [number, number];
  readonly group: number;
}
export interface NllLossAttrs { readonly reduction: 'none' | 'sum' | 'mean'; readonly ignoreIndex: number | null }
/** Quantize/Dequantize: axis over the full dims (-1 = per tensor), blockSize 0 = not blocked;
 * qmin/qmax the integer range (int8 -128..127, uint8 0..255) */
export interface QuantAttrs { readonly axis: number; readonly blockSize: number; readonly qmin: number; readonly qmax: number }
/** QMatMul: requantize = QLinearMatMul (with output scale and zero point) vs MatMulInteger (int32) */
export interface QMatMulAttrs { readonly requantize: boolean; readonly qmin: number; readonly qmax: number }

/**
 * FakeQuant / LearnableFakeQuant: axis over the full dims (-1 = per tensor; the batch axis is
 * never a channel axis); the grid, the observer and the QAT schedule (steps counted by the
 * graph's QAT control cell, see runtime/quant/qat.ts). `rule` is how qparams follow the running
 * min/max, `mode` how x / scale is rounded (runtime/quant/fake-quant.ts).
 */
export interface FakeQuantAttrs {
  readonly axis: number;
  readonly scheme: import('../quant/qparams.js').QScheme;
  /** OBSERVER_MINMAX (0) or OBSERVER_MOVING_AVERAGE (1) */
  readonly observer: number;
  readonly averaging: number;
  readonly rule: import('../quant/qparams.js').QParamsRule;
  readonly mode: import('../quant/fake-quant.js').RoundingMode;
  /** observe while step < freezeObserverAt (2^31 - 1 = never freeze) */
  readonly freezeObserverAt: number;
  /** fake-quantize from this step on (0 = from the start) */
  readonly fakeQuantFrom: number;
}
/** LearnableFakeQuant: as FakeQuant; gradient scaling 1/sqrt(numel * qmax) when gradScaling */
export interface LearnableFakeQuantAttrs extends FakeQuantAttrs { readonly gradScaling: boolean }
/** Int8Quantize / Int8Dequantize: per-tensor grid of the codes ('torch' or 'onnx' rounding) */
export interface Int8QuantAttrs { readonly qmin: number; readonly qmax: number; readonly mode: import('../quant/fake-quant.js').RoundingMode }
/** Int8Linear: dense ([B, I] or [B, R, I]) or conv1d over codes; zero points of input and
 * output, the output clamp (the type's range, raised to the zero point by a fused ReLU) */
export interface Int8LinearAttrs {
  readonly kind: 'dense' | 'conv1d';
  readonly xZero: number;
  readonly yZero: number;
  readonly actMin: number;
  readonly actMax: number;
  readonly stride: number;
  readonly padding: number;
  readonly dilation: number;
  /** dense over signed codes with symmetric weights: the WebAssembly SIMD int8 product may run
   *  it (int32 sums into the node's second output, then the JS requantization) */
  readonly simd: boolean;
}

/** Attributes per op kind: the compiler proves every op gets the record it expects. */
export interface OpAttrs {
  [Op.Dense]: NoAttrs;
  [Op.Relu]: NoAttrs;
  [Op.LeakyRelu]: LeakyReluAttrs;
  [Op.Sigmoid]: NoAttrs;
  [Op.Tanh]: NoAttrs;
  [Op.Softplus]: SoftplusAttrs;
  [Op.Step]: NoAttrs;
  [Op.Sign]: NoAttrs;
  [Op.Softmax]: SoftmaxAttrs;
  [Op.LogSoftmax]: SoftmaxAttrs;
  [Op.Conv1d]: Conv1dAttrs;
  [Op.Reshape]: NoAttrs;
  [Op.Math]: MathAttrs;
  [Op.Binary]: BinaryAttrs;
  [Op.Where]: NoAttrs;
  [Op.MatMul]: MatMulAttrs;
  [Op.Transpose]: TransposeAttrs;
  [Op.Concat]: AxisAttrs;
  [Op.Gather]: AxisAttrs;
  [Op.Reduce]: ReduceAttrs;
  [Op.ArgMax]: ArgMaxAttrs;
  [Op.Cast]: CastAttrs;
  [Op.Copy]: NoAttrs;
  [Op.Conv2d]: Conv2dAttrs;
  [Op.NllLoss]: NllLossAttrs;
  [Op.Quantize]: QuantAttrs;
  [Op.Dequantize]: QuantAttrs;
  [Op.DynQuantize]: NoAttrs;
  [Op.QMatMul]: QMatMulAttrs;
  [Op.FakeQuant]: FakeQuantAttrs;
  [Op.LearnableFakeQuant]: LearnableFakeQuantAttrs;
  [Op.Int8Quantize]: Int8QuantAttrs;
  [Op.Int8Dequantize]: Int8QuantAttrs;
  [Op.Int8Linear]: Int8LinearAttrs;
}

/** Integer result types of integer arithmetic and casts: values wrap around like the type. */
export const IntWrap = { None: 0, I32: 1, I8: 2, U8: 3, Bool: 4 } as const;
export type IntWrapKind = (typeof IntWrap)[keyof typeof IntWrap];

export type ValueRole = 'input' | 'param' | 'const' | 'activation';
/** 'i8' / 'u8': int8 / uint8 codes in 1-byte cells (arena.i8 / arena.u8 at a byte index):
 * the weights and activations of a converted int8 model (runtime/quant/convert.ts). The ONNX
 * importer's QDQ ops keep their int8 values in 'i32' cells (they compute in int32). */
export type DType = 'f32' | 'i32' | 'i8' | 'u8';

export interface Value {
  readonly id: number;
  readonly name: string;
  readonly role: ValueRole;
  readonly dtype: DType;
  /** per-sample dims when batched, full dims otherwise */
  readonly dims: readonly number[];
  readonly batched: boolean;
  /** parameters only: updated by the optimizer (frozen parameters behave like constants) */
  trainable: boolean;
  /** parameters and constants: initial contents, copied into the arena at compile time
   * (Int32Array exactly when dtype is 'i32', Int8Array for 'i8', Uint8Array for 'u8') */
  init: Float32Array | Int32Array | Int8Array | Uint8Array | null;
}

export interface GraphNode<K extends OpKind = OpKind> {
  readonly id: number;
  readonly op: K;
  readonly name: string;
  /** value ids; Dense: [x, w, b?], Conv1d/Conv2d: [x, w, b?], Binary: [x0, x1], Where: [c, x, y],
   * Concat: [x0, x1, ...], Gather: [data, indices], NllLoss: [logp, target, weight?],
   * Quantize: [x, scale, zeroPoint], Dequantize: [q, scale, zeroPoint],
   * QMatMul: [a, aZero, b, bZero] (MatMulInteger) or [a, aScale, aZero, b, bScale, bZero, yScale, yZero],
   * FakeQuant: [x, state (f32 [4C]: min, max, scale, zero point), control (i32 [4])],
   * LearnableFakeQuant: [x, state (observer, f32 [4C]), control, scale (param [C]), zeroPoint (param [C])],
   * Int8Quantize: [x, qparams (f32 [2]: scale, zero point)], Int8Dequantize: [q, qparams],
   * Int8Linear: [xq, wq (i8), requant (i32 [4O]: weight zero point, multiplier, shift, bias with the
   *   input zero point folded in: bias - zx * rowsum(w), the SIMD path's),
   *   scales (f32 [2 + O]: s_x, s_y, s_w (O); what an exporter needs), bias (i32 [O], scale s_x * s_w)?],
   * others: [x] */
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly attrs: OpAttrs[K];
}

export interface Graph {
  readonly values: readonly Value[];
  readonly nodes: readonly GraphNode[];
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
}

/** The same graph without its parameters' initial contents (init null; constants keep theirs), for
 * a program that keeps a graph to compile again later while the values live in an arena (a
 * compile fills such parameters with zeros; the caller copies them in by name, Model.param).
 * Shares the nodes and every other value with `g`; `g` is unchanged. */
export function withoutParamData(g: Graph): Graph {
  return { ...g, values: g.values.map((v) => (v.role === 'param' && v.init !== null ? { ...v, init: null } : v)) };
}

export function sizeOf(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** Full dims with the batch axis as -1 (BATCH) in front when batched. */
export const BATCH = -1;
export function fullDims(v: Value): number[] {
  return v.batched ? [BATCH, ...v.dims] : [...v.dims];
}

export function fmtDims(v: Value): string {
  return v.batched ? `[B, ${v.dims.join(', ')}]` : `[${v.dims.join(', ')}]`;
}
