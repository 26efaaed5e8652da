// The graph a model is built into: values (tensors without storage) and nodes (ops), in
// topological order as the builder appends them. It is data only: the builder checks shapes,
// the planner gives values storage, the executor runs the plan.
//
// Shapes: a *batched* value has a leading batch dimension that is not stored in `dims`; its real
// shape is [b, ...dims] for the batch b of a run (b <= the compiled maximum). Parameters and
// constants are unbatched: their shape is exactly `dims`.

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
}

export type ValueRole = 'input' | 'param' | 'const' | 'activation';
export type DType = 'f32' | 'i32';

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
  /** parameters and constants: initial contents, copied into the arena at compile time */
  init: Float32Array | null;
}

export interface GraphNode<K extends OpKind = OpKind> {
  readonly id: number;
  readonly op: K;
  readonly name: string;
  /** value ids; Dense: [x, w, b?], Conv1d: [x, w, b?], others: [x] */
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

export function sizeOf(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export function fmtDims(v: Value): string {
  return v.batched ? `[B, ${v.dims.join(', ')}]` : `[${v.dims.join(', ')}]`;
}
