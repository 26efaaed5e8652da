// The graph builder: the one place where shapes are checked. Every method validates its inputs
// against the op's shape rule (in runtime/ops/<op>.ts) and throws an EdgennError naming the node
// and tensor; what it returns is a value id. Parameters get PyTorch's default initialisation
// (U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases) from a seeded generator unless
// given explicit data.
import { EdgennError } from '../errors.js';
import { Rng } from '../random.js';
import {
  Op, sizeOf, fmtDims, fullDims, BATCH, IntWrap,
  type Graph, type GraphNode, type OpKind, type OpAttrs, type Value, type ValueRole, type DType,
  type Conv2dAttrs, type MatMulAttrs, type QuantAttrs,
} from './graph.js';
import type { FakeQuantAttrs, Int8LinearAttrs } from './graph.js';
import type { QScheme, QParamsRule } from '../quant/qparams.js';
import type { RoundingMode } from '../quant/fake-quant.js';
import { OBSERVER_MINMAX, OBSERVER_MOVING_AVERAGE } from '../quant/observers.js';
import { QAT_CTL_CELLS, QAT_NEVER } from '../ops/fake-quant-op.js';
import { denseShape } from '../ops/dense.js';
import { conv1dShape } from '../ops/conv1d.js';
import { softmaxAxis } from '../ops/softmax.js';
import { broadcastShape } from '../ops/broadcast.js';
import { binaryIsCompare, binaryIsInt } from '../ops/binary.js';
import { matmulGeometry } from '../ops/matmul.js';
import { concatShape } from '../ops/concat.js';
import { conv2dShape } from '../ops/conv2d.js';
import { ReduceFn } from '../ops/reduce.js';

export type ValueId = number;

export interface ParamOptions {
  /** initial data (row-major, length = product of dims); default: PyTorch-style uniform init */
  readonly data?: ArrayLike<number>;
  /** fan_in for the default init bound 1/sqrt(fan_in) */
  readonly fanIn?: number;
  readonly trainable?: boolean;
}

export interface DenseOptions {
  readonly name?: string;
  readonly bias?: boolean;
  readonly weight?: ArrayLike<number>;
  readonly biasData?: ArrayLike<number>;
}

export interface Conv1dOptions extends DenseOptions {
  readonly stride?: number;
  readonly padding?: number;
  readonly dilation?: number;
}

/** A fake-quant site (GraphBuilder.fakeQuant): the grid, where the channels are, the observer,
 * the schedule. Defaults follow PyTorch's QAT modules (moving average 0.01, observe and
 * fake-quantize from the start, never freeze). */
export interface FakeQuantOptions {
  readonly scheme: QScheme;
  /** channel axis over the full dims (batch axis = 0 when batched); -1 or absent = per tensor */
  readonly axis?: number;
  readonly observer?: 'minmax' | 'moving-average';
  readonly averagingConstant?: number;
  /** how scale and zero point follow the observed range (runtime/quant/qparams.ts); default 'fused' */
  readonly rule?: QParamsRule;
  /** 'torch' (x * 1/scale, default) or 'onnx' (x / scale) before rounding */
  readonly mode?: RoundingMode;
  /** freeze the observer (keep its qparams) from this training step on */
  readonly freezeObserverAt?: number;
  /** fake-quantize from this training step on (before: identity) */
  readonly fakeQuantFrom?: number;
  /** initial qparams (C entries each; default scale 1, the scheme's zero point) */
  readonly scale?: ArrayLike<number>;
  readonly zeroPoint?: ArrayLike<number>;
  /** LSQ only: PyTorch's grad_factor 1/sqrt(numel * qmax) (default true) */
  readonly gradScaling?: boolean;
}

/** Operands of an int8 dense / conv1d layer (runtime/quant/int8.ts prepareInt8Linear + scales). */
export interface Int8LinearOperands {
  /** (O, F) codes; Int8Array for signed weights */
  readonly weight: Int8Array | Uint8Array;
  readonly weightDims: readonly number[];
  readonly weightZero: Int32Array;
  readonly multiplier: Int32Array;
  readonly shift: Int32Array;
  readonly bias: Int32Array | null;
  readonly inputScale: number;
  readonly outputScale: number;
  readonly weightScale: Float32Array;
}

/** Name of the QAT control block (i32 [4]: step, observers on, fake-quant on, reserved) every
 * fake-quant site of a graph shares. */
export const QAT_CONTROL = 'qat.control';

export class GraphBuilder {
  private readonly values: Value[] = [];
  private readonly nodes: GraphNode[] = [];
  private readonly inputs: number[] = [];
  private readonly outputs: number[] = [];
  private readonly names = new Set<string>();
  private readonly rng: Rng;
  private layerCount = 0;

  constructor(seed = 0) {
    this.rng = new Rng(seed);
  }

  /** true when a value (input, parameter, constant or activation) already has this name */
  hasName(name: string): boolean {
    return this.names.has(name);
  }

  value(id: ValueId): Value {
    const v = this.values[id];
    if (v === undefined) throw new EdgennError('GRAPH', `no value with id ${id}`);
    return v;
  }

  /** A graph input; dims are per sample when batched (the batch dimension is implicit), the
   * full fixed shape otherwise. */
  input(name: string, dims: readonly number[], dtype: DType = 'f32', batched = true): ValueId {
    checkDims(name, dims, !batched);
    const id = this.addValue(name, 'input', dtype, dims, batched, null);
    this.inputs.push(id);
    return id;
  }

  param(name: string, dims: readonly number[], opts: ParamOptions = {}): ValueId {
    checkDims(name, dims);
    const n = sizeOf(dims);
    const init = new Float32Array(n);
    if (opts.data !== undefined) {
      if (opts.data.length !== n) {
        throw new EdgennError('SHAPE', 'parameter data length does not match its shape',
          { tensor: name, expected: `${n} values for [${dims.join(', ')}]`, actual: `${opts.data.length}` });
      }
      for (let i = 0; i < n; i++) {
        const v = opts.data[i]!;
        if (!Number.isFinite(v)) {
          throw new EdgennError('DATA', `parameter value at index ${i} is not finite`, { tensor: name, actual: String(v) });
        }
        init[i] = v;
      }
    } else {
      const fanIn = opts.fanIn ?? (dims.length > 1 ? sizeOf(dims.slice(1)) : dims[0]!);
      const bound = 1 / Math.sqrt(Math.max(1, fanIn));
      for (let i = 0; i < n; i++) init[i] = this.rng.uniform(-bound, bound);
    }
    const id = this.addValue(name, 'param', 'f32', dims, false, init);
    this.values[id]!.trainable = opts.trainable ?? true;
    return id;
  }

  /** A fixed tensor (not trained). */
  constant(name: string, dims: readonly number[], data: ArrayLike<number>): ValueId {
    if (sizeOf(dims) === 0) {
      checkDims(name, dims, true);
      return this.addValue(name, 'const', 'f32', dims, false, new Float32Array(0));
    }
    const id = this.param(name, dims, { data, trainable: false });
    (this.values[id] as { role: ValueRole }).role = 'const';
    return id;
  }

  /** A fixed integer tensor (indices, masks, shapes) in i32 cells. */
  constantI32(name: string, dims: readonly number[], data: ArrayLike<number>): ValueId {
    checkDims(name, dims, true);
    const n = sizeOf(dims);
    if (data.length !== n) {
      throw new EdgennError('SHAPE', 'constant data length does not match its shape',
        { tensor: name, expected: `${n} values for [${dims.join(', ')}]`, actual: `${data.length}` });
    }
    const init = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const v = data[i]!;
      if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
        throw new EdgennError('DATA', `integer constant at index ${i} is not an int32`, { tensor: name, actual: String(v) });
      }
      init[i] = v;
    }
    return this.addValue(name, 'const', 'i32', dims, false, init);
  }

  /** nn.Linear: creates `<name>.weight` [O, I] and `<name>.bias` [O]. */
  dense(x: ValueId, outFeatures: number, o: DenseOptions = {}): ValueId {
    const name = o.name ?? String(this.layerCount);
    const xv = this.value(x);
    if (xv.dims.length !== 1) {
      throw new EdgennError('SHAPE', 'dense input must be [B, I]; add a flatten first',
        { node: name, tensor: xv.name, expected: '[B, I]', actual: fmtDims(xv) });
    }
    checkDims(`${name}.weight`, [outFeatures]);
    const I = xv.dims[0]!;
    const w = this.param(`${name}.weight`, [outFeatures, I], { data: o.weight, fanIn: I });
    const b = (o.bias ?? true) ? this.param(`${name}.bias`, [outFeatures], { data: o.biasData, fanIn: I }) : -1;
    return this.denseWith(x, w, b, name);
  }

  /** dense over existing parameter values (used by importers); b = -1 for no bias. */
  denseWith(x: ValueId, w: ValueId, b: ValueId, name?: string): ValueId {
    const n = this.nodeName(name);
    const xv = this.value(x), wv = this.value(w);
    const bv = b >= 0 ? this.value(b) : null;
    if (!xv.batched || wv.batched || (bv !== null && bv.batched)) {
      throw new EdgennError('SHAPE', 'dense takes a batched input and unbatched weight/bias', { node: n });
    }
    const dims = denseShape(n, xv.dims, wv.dims, bv === null ? null : bv.dims);
    return this.addNode(Op.Dense, n, b >= 0 ? [x, w, b] : [x, w], dims, {});
  }

  conv1d(x: ValueId, outChannels: number, kernel: number, o: Conv1dOptions = {}): ValueId {
    const name = o.name ?? String(this.layerCount);
    const xv = this.value(x);
    if (xv.dims.length !== 2) {
      throw new EdgennError('SHAPE', 'conv1d input must be [B, C, L]',
        { node: name, tensor: xv.name, expected: '[B, C, L]', actual: fmtDims(xv) });
    }
    checkDims(`${name}.weight`, [outChannels, kernel]);
    const C = xv.dims[0]!;
    const fanIn = C * kernel;
    const w = this.param(`${name}.weight`, [outChannels, C, kernel], { data: o.weight, fanIn });
    const b = (o.bias ?? true) ? this.param(`${name}.bias`, [outChannels], { data: o.biasData, fanIn }) : -1;
    return this.conv1dWith(x, w, b, { stride: o.stride ?? 1, padding: o.padding ?? 0, dilation: o.dilation ?? 1 }, name);
  }

  conv1dWith(x: ValueId, w: ValueId, b: ValueId, attrs: OpAttrs[typeof Op.Conv1d], name?: string): ValueId {
    const n = this.nodeName(name);
    const xv = this.value(x), wv = this.value(w);
    const bv = b >= 0 ? this.value(b) : null;
    if (!xv.batched || wv.batched || (bv !== null && bv.batched)) {
      throw new EdgennError('SHAPE', 'conv1d takes a batched input and unbatched weight/bias', { node: n });
    }
    const dims = conv1dShape(n, xv.dims, wv.dims, bv === null ? null : bv.dims, attrs.stride, attrs.padding, attrs.dilation);
    return this.addNode(Op.Conv1d, n, b >= 0 ? [x, w, b] : [x, w], dims, { ...attrs });
  }

  relu(x: ValueId, name?: string): ValueId { return this.unary(Op.Relu, x, {}, name); }
  sigmoid(x: ValueId, name?: string): ValueId { return this.unary(Op.Sigmoid, x, {}, name); }
  tanh(x: ValueId, name?: string): ValueId { return this.unary(Op.Tanh, x, {}, name); }
  step(x: ValueId, name?: string): ValueId { return this.unary(Op.Step, x, {}, name); }
  sign(x: ValueId, name?: string): ValueId { return this.unary(Op.Sign, x, {}, name); }

  leakyRelu(x: ValueId, negativeSlope = 0.01, name?: string): ValueId {
    if (!Number.isFinite(negativeSlope)) {
      throw new EdgennError('ARG', 'leaky_relu negative_slope must be finite', { node: name, actual: String(negativeSlope) });
    }
    return this.unary(Op.LeakyRelu, x, { negativeSlope }, name);
  }

  softplus(x: ValueId, beta = 1, threshold = 20, name?: string): ValueId {
    if (!(beta > 0) || !Number.isFinite(beta) || Number.isNaN(threshold)) {
      throw new EdgennError('ARG', 'softplus needs beta > 0 and a numeric threshold', { node: name, actual: `beta ${beta}, threshold ${threshold}` });
    }
    return this.unary(Op.Softplus, x, { beta, threshold }, name);
  }

  /** axis counts per-sample dims (0 = first dim after the batch); -1 = last */
  softmax(x: ValueId, axis = -1, name?: string): ValueId {
    const n = this.nodeName(name);
    return this.unary(Op.Softmax, x, { axis: softmaxAxis(n, this.value(x).dims, axis) }, n);
  }

  logSoftmax(x: ValueId, axis = -1, name?: string): ValueId {
    const n = this.nodeName(name);
    return this.unary(Op.LogSoftmax, x, { axis: softmaxAxis(n, this.value(x).dims, axis) }, n);
  }

  /** nn.Flatten(): [B, ...dims] -> [B, prod(dims)]. A view: no copy is made. */
  flatten(x: ValueId, name?: string): ValueId {
    return this.reshape(x, [sizeOf(this.value(x).dims)], name);
  }

  /** per-sample reshape; one entry may be -1 (inferred). A view: no copy is made. */
  reshape(x: ValueId, dims: readonly number[], name?: string): ValueId {
    const n = this.nodeName(name);
    const xv = this.value(x);
    const total = sizeOf(xv.dims);
    const free = dims.filter((d) => d === -1).length;
    const known = sizeOf(dims.filter((d) => d !== -1));
    if (free > 1 || dims.some((d) => !Number.isInteger(d) || d < -1 || (d === 0 && total !== 0)) ||
        (free === 1 ? known === 0 || total % known !== 0 : known !== total)) {
      throw new EdgennError('SHAPE', 'reshape must keep the number of elements per sample',
        { node: n, tensor: xv.name, expected: `${total} elements`, actual: `[${dims.join(', ')}]` });
    }
    const out = dims.map((d) => (d === -1 ? total / known : d));
    return this.addNode(Op.Reshape, n, [x], out, {}, xv.batched);
  }

  /** Marks a value as a graph output (order of calls = order of outputs); `name` renames the
   * value (importers keep the file's output names). */
  output(x: ValueId, name?: string): ValueId {
    const v = this.value(x);
    if (name !== undefined && name !== v.name) {
      if (this.names.has(name)) throw new EdgennError('GRAPH', 'duplicate tensor name for a graph output', { tensor: name });
      this.names.delete(v.name);
      this.names.add(name);
      (v as { name: string }).name = name;
    }
    if (!this.outputs.includes(x)) this.outputs.push(x);
    return x;
  }

  // ---- general ops (importers): shapes are checked on full dims, batch axis first ----

  /** Dense over the last dim of x [..., I] with w [O, I] (PyTorch layout) -> [..., O]. */
  linear(x: ValueId, w: ValueId, b: ValueId, name?: string): ValueId {
    const n = this.nodeName(name);
    const xv = this.value(x), wv = this.value(w);
    const bv = b >= 0 ? this.value(b) : null;
    this.needF32(n, xv, wv, ...(bv !== null ? [bv] : []));
    if (wv.batched || (bv !== null && bv.batched) || xv.dims.length < 1) {
      throw new EdgennError('SHAPE', 'linear takes x [..., I] and unbatched weight/bias', { node: n, tensor: xv.name, actual: fmtDims(xv) });
    }
    const I = xv.dims[xv.dims.length - 1]!;
    const O = denseShape(n, [I], wv.dims, bv === null ? null : bv.dims)[0]!;
    return this.addNode(Op.Dense, n, b >= 0 ? [x, w, b] : [x, w], [...xv.dims.slice(0, -1), O], {}, xv.batched);
  }

  /** Float elementwise math (fn: UnaryFn of runtime/ops/unary.ts). */
  math(fn: number, x: ValueId, p0 = 0, p1 = 0, name?: string): ValueId {
    if (Number.isNaN(p0) || Number.isNaN(p1)) {
      throw new EdgennError('ARG', 'math op parameters must be numbers', { node: name, actual: `${p0}, ${p1}` });
    }
    return this.unary(Op.Math, x, { fn, p0, p1 }, name);
  }

  /** Elementwise fn (BinaryFn of runtime/ops/binary.ts) with numpy broadcasting. Float fns take
   * f32 operands, integer fns i32 ones wrapped to `wrap`; comparisons give i32 0/1. */
  binary(fn: number, a: ValueId, b: ValueId, name?: string, wrap: number = IntWrap.I32): ValueId {
    const n = this.nodeName(name);
    const av = this.value(a), bv = this.value(b);
    const want: DType = binaryIsInt(fn) ? 'i32' : 'f32';
    for (const v of [av, bv]) {
      if (v.dtype !== want) throw new EdgennError('SHAPE', 'binary operand has the wrong element type', { node: n, tensor: v.name, expected: want, actual: v.dtype });
    }
    const out = broadcastShape(n, [fullDims(av), fullDims(bv)]);
    const dtype: DType = binaryIsCompare(fn) || binaryIsInt(fn) ? 'i32' : 'f32';
    return this.addFull(Op.Binary, n, [a, b], out, { fn, wrap: binaryIsInt(fn) ? wrap : IntWrap.None }, dtype);
  }

  /** where(c, x, y) with broadcasting; c is i32 (0/1), x and y share a type. */
  where(c: ValueId, x: ValueId, y: ValueId, name?: string): ValueId {
    const n = this.nodeName(name);
    const cv = this.value(c), xv = this.value(x), yv = this.value(y);
    if (cv.dtype !== 'i32' || xv.dtype !== yv.dtype) {
      throw new EdgennError('SHAPE', 'where takes an i32 condition and two values of one type', { node: n, actual: `${cv.dtype}, ${xv.dtype}, ${yv.dtype}` });
    }
    const out = broadcastShape(n, [fullDims(cv), fullDims(xv), fullDims(yv)]);
    return this.addFull(Op.Where, n, [c, x, y], out, {}, xv.dtype);
  }

  matmul(a: ValueId, b: ValueId, attrs: Partial<MatMulAttrs> = {}, name?: string): ValueId {
    const n = this.nodeName(name);
    const av = this.value(a), bv = this.value(b);
    this.needF32(n, av, bv);
    const at: MatMulAttrs = { transA: attrs.transA ?? false, transB: attrs.transB ?? false, alpha: attrs.alpha ?? 1 };
    const g = matmulGeometry(n, fullDims(av), fullDims(bv), at.transA, at.transB);
    return this.addFull(Op.MatMul, n, [a, b], g.outFull, at, 'f32');
  }

  /** perm over the full dims; a batched value keeps its batch axis first. */
  transpose(x: ValueId, perm: readonly number[], name?: string): ValueId {
    const n = this.nodeName(name);
    const xv = this.value(x);
    const full = fullDims(xv);
    const ok = perm.length === full.length && [...perm].sort((p, q) => p - q).every((p, i) => p === i);
    if (!ok) throw new EdgennError('SHAPE', 'transpose perm is not a permutation of the dims', { node: n, expected: `a permutation of 0..${full.length - 1}`, actual: `[${perm.join(', ')}]` });
    if (xv.batched && perm[0] !== 0) throw new EdgennError('UNSUPPORTED', 'transpose would move the batch axis', { node: n, actual: `[${perm.join(', ')}]` });
    return this.addFull(Op.Transpose, n, [x], perm.map((p) => full[p]!), { perm: [...perm] }, xv.dtype);
  }

  /** concat along a full-dims axis (not the batch axis); all inputs batched alike and one type. */
  concat(xs: readonly ValueId[], axis: number, name?: string): ValueId {
    const n = this.nodeName(name);
    const vs = xs.map((x) => this.value(x));
    if (vs.length === 0) throw new EdgennError('SHAPE', 'concat needs at least one input', { node: n });
    const first = vs[0]!;
    if (vs.some((v) => v.batched !== first.batched || v.dtype !== first.dtype)) {
      throw new EdgennError('UNSUPPORTED', 'concat inputs must all be batched or all unbatched, of one type', { node: n });
    }
    const full = fullDims(first);
    const ax = this.axis(n, axis, full.length, first.batched);
    const out = concatShape(n, vs.map(fullDims), ax);
    return this.addFull(Op.Concat, n, [...xs], out, { axis: ax }, first.dtype);
  }

  /** gather along a full-dims axis with i32 indices (negative ones count from the end). */
  gather(x: ValueId, ind: ValueId, axis: number, name?: string): ValueId {
    const n = this.nodeName(name);
    const xv = this.value(x), iv = this.value(ind);
    if (iv.dtype !== 'i32') throw new EdgennError('SHAPE', 'gather indices must be integers', { node: n, tensor: iv.name, actual: iv.dtype });
    const full = fullDims(xv);
    const ax = this.axis(n, axis, full.length, xv.batched);
    if (xv.batched && iv.batched) throw new EdgennError('UNSUPPORTED', 'gather with batched data and batched indices', { node: n });
    if (iv.batched && ax !== 0) throw new EdgennError('UNSUPPORTED', 'gather with batched indices works along axis 0 only', { node: n });
    const out = [...full.slice(0, ax), ...fullDims(iv), ...full.slice(ax + 1)];
    return this.addFull(Op.Gather, n, [x, ind], out, { axis: ax }, xv.dtype);
  }

  /** sum (fn 0) or mean (fn 1) over full-dims axes (not the batch axis). */
  reduce(fn: number, x: ValueId, axes: readonly number[], keepDims: boolean, name?: string): ValueId {
    const n = this.nodeName(name);
    const xv = this.value(x);
    this.needF32(n, xv);
    const full = fullDims(xv);
    const ax = [...new Set(axes.map((a) => this.axis(n, a, full.length, xv.batched)))].sort((p, q) => p - q);
    const out = keepDims ? full.map((d, j) => (ax.includes(j) ? 1 : d)) : full.filter((_, j) => !ax.includes(j));
    return this.addFull(Op.Reduce, n, [x], out, { fn: fn === ReduceFn.Mean ? ReduceFn.Mean : ReduceFn.Sum, axes: ax, keepDims }, 'f32');
  }

  argmax(x: ValueId, axis: number, keepDims: boolean, selectLastIndex: boolean, name?: string): ValueId {
    const n = this.nodeName(name);
    const xv = this.value(x);
    this.needF32(n, xv);
    const full = fullDims(xv);
    const ax = this.axis(n, axis, full.length, xv.batched);
    const out = keepDims ? full.map((d, j) => (j === ax ? 1 : d)) : full.filter((_, j) => j !== ax);
    return this.addFull(Op.ArgMax, n, [x], out, { axis: ax, keepDims, selectLastIndex }, 'i32');
  }

  /** element type conversion; wrap = the integer result type (IntWrap) when `to` is 'i32' */
  cast(x: ValueId, to: DType, wrap: number = IntWrap.I32, name?: string): ValueId {
    const n = this.nodeName(name);
    const xv = this.value(x);
    return this.addFull(Op.Cast, n, [x], fullDims(xv), { wrap: to === 'i32' ? wrap : IntWrap.None }, to);
  }

  copy(x: ValueId, name?: string): ValueId {
    const n = this.nodeName(name);
    const xv = this.value(x);
    return this.addFull(Op.Copy, n, [x], fullDims(xv), {}, xv.dtype);
  }

  /** convolution over [N, C, L] or [N, C, H, W] (N = batch when batched) with weight
   * [O, C/group, K] or [O, C/group, KH, KW]; attrs in 2-D form (a 1-D conv has H = KH = 1). */
  conv(x: ValueId, w: ValueId, b: ValueId, attrs: Conv2dAttrs, name?: string): ValueId {
    const n = this.nodeName(name);
    const xv = this.value(x), wv = this.value(w);
    const bv = b >= 0 ? this.value(b) : null;
    this.needF32(n, xv, wv, ...(bv !== null ? [bv] : []));
    const full = fullDims(xv);
    if ((full.length !== 3 && full.length !== 4) || wv.batched || wv.dims.length !== full.length || (bv !== null && bv.batched)) {
      throw new EdgennError('SHAPE', 'conv takes x [N, C, L] or [N, C, H, W] and an unbatched weight of the same rank',
        { node: n, tensor: xv.name, actual: `x ${fmtDims(xv)}, w [${wv.dims.join(', ')}]` });
    }
    const oneD = full.length === 3;
    const img = oneD ? [full[1]!, 1, full[2]!] : full.slice(1);
    const w4 = oneD ? [wv.dims[0]!, wv.dims[1]!, 1, wv.dims[2]!] : wv.dims;
    const o = conv2dShape(n, img, w4, bv === null ? null : bv.dims, attrs.strides, attrs.pads, attrs.dilations, attrs.group);
    const out = [full[0]!, o[0]!, ...(oneD ? [o[2]!] : [o[1]!, o[2]!])];
    return this.addFull(Op.Conv2d, n, b >= 0 ? [x, w, b] : [x, w], out, { ...attrs }, 'f32');
  }

  /** NLL over log-probabilities [N, C, d...] with i32 targets [N, d...] and optional weight [C]. */
  nllLoss(logp: ValueId, target: ValueId, weight: ValueId, reduction: 'none' | 'sum' | 'mean', ignoreIndex: number | null, name?: string): ValueId {
    const n = this.nodeName(name);
    const lv = this.value(logp), tv = this.value(target);
    const wv = weight >= 0 ? this.value(weight) : null;
    this.needF32(n, lv, ...(wv !== null ? [wv] : []));
    const lf = fullDims(lv), tf = fullDims(tv);
    if (tv.dtype !== 'i32' || lf.length < 2 || tf.length !== lf.length - 1 || tf[0] !== lf[0] || tf.some((d, j) => j > 0 && d !== lf[j + 1]) ||
        (wv !== null && (wv.batched || wv.dims.length !== 1 || wv.dims[0] !== lf[1])) || lf[1] === BATCH) {
      throw new EdgennError('SHAPE', 'nll takes log-probabilities [N, C, d...], integer targets [N, d...] and weight [C]',
        { node: n, actual: `${fmtDims(lv)}, ${fmtDims(tv)}${wv !== null ? `, ${fmtDims(wv)}` : ''}` });
    }
    const out = reduction === 'none' ? tf : [];
    const id = this.addFull(Op.NllLoss, n, weight >= 0 ? [logp, target, weight] : [logp, target], out, { reduction, ignoreIndex }, 'f32');
    return id;
  }

  /** QuantizeLinear (x f32 -> i32 cells in [qmin, qmax]) with scale/zero point per tensor, axis or block. */
  quantize(x: ValueId, scale: ValueId, zeroPoint: ValueId, attrs: QuantAttrs, name?: string): ValueId {
    const n = this.nodeName(name);
    const xv = this.value(x);
    this.needF32(n, xv, this.value(scale));
    this.checkQuant(n, xv, scale, zeroPoint, attrs);
    return this.addFull(Op.Quantize, n, [x, scale, zeroPoint], fullDims(xv), { ...attrs }, 'i32');
  }

  dequantize(q: ValueId, scale: ValueId, zeroPoint: ValueId, attrs: QuantAttrs, name?: string): ValueId {
    const n = this.nodeName(name);
    const qv = this.value(q);
    this.needF32(n, this.value(scale));
    if (qv.dtype !== 'i32') throw new EdgennError('SHAPE', 'dequantize takes integers', { node: n, tensor: qv.name, actual: qv.dtype });
    this.checkQuant(n, qv, scale, zeroPoint, attrs);
    return this.addFull(Op.Dequantize, n, [q, scale, zeroPoint], fullDims(qv), { ...attrs }, 'f32');
  }

  /** DynamicQuantizeLinear: returns [y (uint8 in i32 cells), scale (f32 scalar), zero point (i32 scalar)]. */
  dynQuantize(x: ValueId, name?: string): [ValueId, ValueId, ValueId] {
    const n = this.nodeName(name);
    const xv = this.value(x);
    this.needF32(n, xv);
    const ids = this.addNodeOuts(Op.DynQuantize, n, [x], [
      { dims: xv.dims, batched: xv.batched, dtype: 'i32' }, { dims: [], batched: false, dtype: 'f32' }, { dims: [], batched: false, dtype: 'i32' },
    ], {});
    return [ids[0]!, ids[1]!, ids[2]!];
  }

  /** MatMulInteger ([a, b, aZero, bZero]) or QLinearMatMul (+ aScale, bScale, yScale, yZero) */
  qmatmul(a: ValueId, b: ValueId, aZero: ValueId, bZero: ValueId, requant: { aScale: ValueId; bScale: ValueId; yScale: ValueId; yZero: ValueId } | null,
          qmin: number, qmax: number, name?: string): ValueId {
    const n = this.nodeName(name);
    const av = this.value(a), bv = this.value(b);
    if (av.dtype !== 'i32' || bv.dtype !== 'i32') throw new EdgennError('SHAPE', 'integer matmul takes integers', { node: n });
    const g = matmulGeometry(n, fullDims(av), fullDims(bv), false, false);
    const lenOk = (id: ValueId, ...ok: number[]): boolean => { const v = this.value(id); return !v.batched && ok.includes(sizeOf(v.dims)); };
    const M = av.dims.length >= 2 ? fullDims(av)[fullDims(av).length - 2]! : 1;
    if (!lenOk(aZero, 1, M) || !lenOk(bZero, 1, g.N) || (requant !== null &&
        (!lenOk(requant.aScale, 1, M) || !lenOk(requant.bScale, 1, g.N) || !lenOk(requant.yScale, 1) || !lenOk(requant.yZero, 1)))) {
      throw new EdgennError('SHAPE', 'integer matmul scales / zero points must be per tensor, per row of A or per column of B', { node: n });
    }
    const ins = requant === null ? [a, b, aZero, bZero] : [a, b, aZero, bZero, requant.aScale, requant.bScale, requant.yScale, requant.yZero];
    return this.addFull(Op.QMatMul, n, ins, g.outFull, { requantize: requant !== null, qmin, qmax }, 'i32');
  }

  private checkQuant(n: string, xv: Value, scale: ValueId, zeroPoint: ValueId, a: QuantAttrs): void {
    const sv = this.value(scale), zv = this.value(zeroPoint);
    const full = fullDims(xv);
    const ok = !sv.batched && !zv.batched && zv.dtype === 'i32' && sizeOf(sv.dims) === sizeOf(zv.dims) && (
      (sizeOf(sv.dims) === 1 && a.blockSize === 0) ||
      (a.blockSize === 0 && a.axis >= 0 && a.axis < full.length && full[a.axis] !== BATCH && sv.dims.length === 1 && sv.dims[0] === full[a.axis]) ||
      (a.blockSize > 0 && !xv.batched && sv.dims.length === full.length &&
        sv.dims.every((d, j) => (j === a.axis ? d === Math.ceil(full[j]! / a.blockSize) : d === full[j]))));
    if (!ok) {
      throw new EdgennError('SHAPE', 'quantization scale / zero point do not fit the tensor (per tensor, per axis or blocked)',
        { node: n, tensor: sv.name, actual: `x ${fmtDims(xv)}, scale ${fmtDims(sv)}, zero point ${fmtDims(zv)} (${zv.dtype}), axis ${a.axis}, block ${a.blockSize}` });
    }
  }

  private needF32(n: string, ...vs: Value[]): void {
    for (const v of vs) {
      if (v.dtype !== 'f32') throw new EdgennError('SHAPE', 'op takes a float tensor', { node: n, tensor: v.name, expected: 'f32', actual: v.dtype });
    }
  }

  /** A full-dims axis (negative counts from the end), refusing the batch axis. */
  private axis(n: string, axis: number, rank: number, batched: boolean): number {
    const r = axis < 0 ? axis + rank : axis;
    if (!Number.isInteger(r) || r < 0 || r >= rank) {
      throw new EdgennError('SHAPE', 'axis out of range', { node: n, expected: `in [${-rank}, ${rank - 1}]`, actual: String(axis) });
    }
    if (batched && r === 0) throw new EdgennError('UNSUPPORTED', 'op along the batch axis', { node: n, actual: `axis ${axis}` });
    return r;
  }

  /** Adds a node whose output has full dims `out` (batched iff it starts with BATCH). */
  private addFull<K extends OpKind>(op: K, name: string, inputs: number[], out: readonly number[], attrs: OpAttrs[K], dtype: DType): ValueId {
    const batched = out.length > 0 && out[0] === BATCH;
    if (out.indexOf(BATCH, batched ? 1 : 0) >= 0) {
      throw new EdgennError('SHAPE', 'the batch dimension would not lead the result', { node: name });
    }
    return this.addNode(op, name, inputs, batched ? out.slice(1) : out, attrs, batched, dtype);
  }

  // ---- quantization-aware training and int8 inference ----

  /**
   * A builder that continues an existing graph: its values (copied, same ids), inputs and outputs,
   * but no nodes: re-add them in order with `appendNode` (graph passes insert nodes between them,
   * e.g. runtime/quant/qat.ts). The source graph is not modified.
   */
  static continueFrom(graph: Graph, seed = 0): GraphBuilder {
    const b = new GraphBuilder(seed);
    for (const v of graph.values) {
      b.values.push({ ...v, dims: [...v.dims] });
      b.names.add(v.name);
    }
    b.inputs.push(...graph.inputs);
    b.outputs.push(...graph.outputs);
    b.layerCount = graph.nodes.length;
    return b;
  }

  /** Re-adds a node of the graph this builder continues (its values exist), with possibly
   * rewired inputs. Shapes were checked when the node was first built. */
  appendNode(node: GraphNode, inputs: readonly number[] = node.inputs): void {
    for (const i of [...inputs, ...node.outputs]) this.value(i);
    this.nodes.push({ ...node, id: this.nodes.length, inputs: [...inputs] } as GraphNode);
  }

  /** Adds a copy of another graph's node over values of this one: same op, name and attributes,
   * outputs shaped like `outs` (graph passes that rebuild a graph, e.g. runtime/quant/convert.ts).
   * The inputs must have the shapes the node was built with. */
  rawNode(node: GraphNode, inputs: readonly ValueId[], outs: readonly Pick<Value, 'dims' | 'batched' | 'dtype'>[]): ValueId[] {
    for (const i of inputs) this.value(i);
    return this.addNodeOuts(node.op, node.name, [...inputs], outs.map((o) => ({ dims: o.dims, batched: o.batched, dtype: o.dtype })), node.attrs);
  }

  /** Renames a value (to a name no other value has). */
  rename(id: ValueId, name: string): void {
    const v = this.value(id);
    if (v.name === name) return;
    if (this.names.has(name)) throw new EdgennError('GRAPH', 'duplicate tensor name', { tensor: name });
    this.names.delete(v.name);
    (v as { name: string }).name = name;
    this.names.add(name);
  }

  /** The id of the value with this name, or -1. */
  find(name: string): ValueId {
    return this.values.find((v) => v.name === name)?.id ?? -1;
  }

  /** Replaces graph output i (keeps the output's name: the old value is renamed `<name>:float`). */
  replaceOutput(i: number, id: ValueId): void {
    const old = this.value(this.outputs[i]!), nv = this.value(id);
    const name = old.name;
    this.names.delete(nv.name);
    (old as { name: string }).name = this.uniqueName(`${name}:float`);
    this.names.add(old.name);
    (nv as { name: string }).name = name;
    this.names.add(name);
    this.outputs[i] = id;
  }

  /** The graph's QAT control block (created on first use; steps, observers on, fake-quant on). */
  qatControl(): ValueId {
    const v = this.values.find((q) => q.name === QAT_CONTROL);
    if (v !== undefined) return v.id;
    return this.addValue(QAT_CONTROL, 'const', 'i32', [QAT_CTL_CELLS], false, Int32Array.of(0, 1, 1, 0));
  }

  /**
   * Fake quantization of x with an observer (QAT): y has x's shape. Creates `<name>.state`
   * (f32 [4C]: running min, max, scale, zero point) and uses the graph's QAT control block.
   */
  fakeQuant(x: ValueId, o: FakeQuantOptions, name?: string): ValueId {
    const n = this.nodeName(name);
    const { attrs, C } = this.fakeQuantSite(n, x, o);
    const st = this.fakeQuantState(n, C, o);
    return this.addNode(Op.FakeQuant, n, [x, st, this.qatControl()], this.value(x).dims, attrs, this.value(x).batched);
  }

  /**
   * LSQ fake quantization: trainable `<name>.scale` and `<name>.zero_point` ([C]; the zero point
   * is frozen at 0 for symmetric schemes) with PyTorch's learnable fake-quant gradients; while the
   * site observes, its observer's qparams overwrite them (PyTorch's static_enabled).
   */
  learnableFakeQuant(x: ValueId, o: FakeQuantOptions, name?: string): ValueId {
    const n = this.nodeName(name);
    const { attrs, C } = this.fakeQuantSite(n, x, o);
    // the observer state holds integer zero points; the learnable one may sit between them
    const st = this.fakeQuantState(n, C, { ...o, zeroPoint: o.zeroPoint === undefined ? undefined : Array.from(o.zeroPoint, (z) => Math.round(z)) });
    const sc = this.param(`${n}.scale`, [C], { data: o.scale ?? new Float32Array(C).fill(1) });
    const zp = this.param(`${n}.zero_point`, [C], { data: o.zeroPoint ?? new Float32Array(C).fill(o.scheme.symmetricZeroPoint),
      trainable: !o.scheme.symmetric });
    return this.addNode(Op.LearnableFakeQuant, n, [x, st, this.qatControl(), sc, zp], this.value(x).dims,
      { ...attrs, gradScaling: o.gradScaling ?? true }, this.value(x).batched);
  }

  private fakeQuantSite(n: string, x: ValueId, o: FakeQuantOptions): { attrs: FakeQuantAttrs; C: number } {
    const xv = this.value(x);
    this.needF32(n, xv);
    const full = fullDims(xv);
    const axis = o.axis === undefined || o.axis < 0 ? -1 : o.axis;
    if (axis >= full.length || (axis === 0 && xv.batched) || !Number.isInteger(axis)) {
      throw new EdgennError('SHAPE', 'fake-quant channel axis must be a dim of the tensor other than the batch', { node: n, tensor: xv.name,
        expected: `an axis in [${xv.batched ? 1 : 0}, ${full.length - 1}] or -1 (per tensor)`, actual: String(o.axis) });
    }
    const C = axis < 0 ? 1 : full[axis]!;
    const avg = o.averagingConstant ?? 0.01;
    if (!(avg > 0 && avg <= 1)) throw new EdgennError('ARG', 'averaging constant must be in (0, 1]', { node: n, actual: String(avg) });
    const step = (v: number | undefined, d: number, what: string): number => {
      if (v === undefined) return d;
      if (!Number.isInteger(v) || v < 0) throw new EdgennError('ARG', `${what} must be a step count (integer >= 0)`, { node: n, actual: String(v) });
      return Math.min(v, QAT_NEVER);
    };
    const attrs: FakeQuantAttrs = {
      axis, scheme: o.scheme, observer: o.observer === 'minmax' ? OBSERVER_MINMAX : OBSERVER_MOVING_AVERAGE, averaging: avg,
      rule: o.rule ?? 'fused', mode: o.mode ?? 'torch',
      freezeObserverAt: step(o.freezeObserverAt, QAT_NEVER, 'freezeObserverAt'), fakeQuantFrom: step(o.fakeQuantFrom, 0, 'fakeQuantFrom'),
    };
    return { attrs, C };
  }

  private fakeQuantState(n: string, C: number, o: FakeQuantOptions): ValueId {
    const init = new Float32Array(4 * C);
    init.fill(Infinity, 0, C);
    init.fill(-Infinity, C, 2 * C);
    for (let c = 0; c < C; c++) {
      const s = o.scale === undefined ? 1 : o.scale[o.scale.length === 1 ? 0 : c]!;
      const z = o.zeroPoint === undefined ? o.scheme.symmetricZeroPoint : o.zeroPoint[o.zeroPoint.length === 1 ? 0 : c]!;
      if (!(s > 0) || !Number.isFinite(s) || !Number.isInteger(z)) {
        throw new EdgennError('DATA', 'initial scale must be positive and zero point an integer', { node: n, actual: `scale ${s}, zero point ${z}` });
      }
      init[2 * C + c] = s;
      init[3 * C + c] = z;
    }
    return this.addValue(`${n}.state`, 'const', 'f32', [4 * C], false, init);
  }

  /** A constant of int8 / uint8 codes (1 byte per element in the arena). */
  constantBytes(name: string, dims: readonly number[], data: Int8Array | Uint8Array): ValueId {
    checkDims(name, dims);
    if (data.length !== sizeOf(dims)) {
      throw new EdgennError('SHAPE', 'constant data length does not match its shape', { tensor: name, expected: String(sizeOf(dims)), actual: String(data.length) });
    }
    return this.addValue(name, 'const', data instanceof Int8Array ? 'i8' : 'u8', dims, false, data.slice());
  }

  /** float x -> int8 (signed) or uint8 codes, per tensor, saturated to [qmin, qmax]. */
  int8Quantize(x: ValueId, scale: number, zeroPoint: number, o: { signed: boolean; qmin?: number; qmax?: number; mode?: RoundingMode }, name?: string): ValueId {
    const n = this.nodeName(name);
    const xv = this.value(x);
    this.needF32(n, xv);
    const lo = o.signed ? -128 : 0, hi = o.signed ? 127 : 255;
    const qmin = o.qmin ?? lo, qmax = o.qmax ?? hi;
    this.checkQParams(n, scale, zeroPoint, lo, hi, qmin, qmax);
    const qp = this.constant(`${n}.qparams`, [2], [scale, zeroPoint]);
    return this.addNode(Op.Int8Quantize, n, [x, qp], xv.dims, { qmin, qmax, mode: o.mode ?? 'torch' }, xv.batched, o.signed ? 'i8' : 'u8');
  }

  /** int8 / uint8 codes -> float (q - zeroPoint) * scale. */
  int8Dequantize(q: ValueId, scale: number, zeroPoint: number, name?: string): ValueId {
    const n = this.nodeName(name);
    const qv = this.value(q);
    if (qv.dtype !== 'i8' && qv.dtype !== 'u8') throw new EdgennError('SHAPE', 'int8 dequantize takes int8 / uint8 codes', { node: n, tensor: qv.name, actual: qv.dtype });
    const lo = qv.dtype === 'i8' ? -128 : 0, hi = qv.dtype === 'i8' ? 127 : 255;
    this.checkQParams(n, scale, zeroPoint, lo, hi, lo, hi);
    const qp = this.constant(`${n}.qparams`, [2], [scale, zeroPoint]);
    return this.addNode(Op.Int8Dequantize, n, [q, qp], qv.dims, { qmin: lo, qmax: hi, mode: 'torch' }, qv.batched, 'f32');
  }

  /**
   * Integer dense ([B, I] or [B, R, I] codes) or conv1d ([B, C, L] codes): creates `<name>.weight`
   * (1 byte per weight), `<name>.bias` (int32), `<name>.requant` and `<name>.scales`; the output
   * codes are int8 when `outputSigned`, else uint8.
   */
  int8Linear(xq: ValueId, p: Int8LinearOperands, attrs: Omit<Int8LinearAttrs, 'simd'>, outputSigned: boolean, name?: string): ValueId {
    const n = this.nodeName(name);
    const xv = this.value(xq);
    if (xv.dtype !== 'i8' && xv.dtype !== 'u8') throw new EdgennError('SHAPE', 'int8 linear takes int8 / uint8 codes', { node: n, tensor: xv.name, actual: xv.dtype });
    const O = p.weightDims[0]!;
    const okLen = (a: ArrayLike<number>): boolean => a.length === O;
    if (![p.weightZero, p.multiplier, p.shift, p.weightScale].every(okLen) || (p.bias !== null && !okLen(p.bias))) {
      throw new EdgennError('SHAPE', 'int8 linear operands must have one entry per output channel', { node: n, expected: String(O) });
    }
    let out: number[];
    if (attrs.kind === 'dense') {
      out = [...xv.dims.slice(0, -1), ...denseShape(n, [xv.dims[xv.dims.length - 1]!], p.weightDims, null)];
    } else {
      if (xv.dims.length !== 2 || !xv.batched) throw new EdgennError('SHAPE', 'int8 conv1d input must be [B, C, L]', { node: n, actual: fmtDims(xv) });
      out = conv1dShape(n, xv.dims, p.weightDims, null, attrs.stride, attrs.padding, attrs.dilation);
    }
    const w = this.constantBytes(`${n}.weight`, p.weightDims, p.weight);
    // requant block: weight zero points | multipliers | shifts | bias - zx * rowsum(w) (the SIMD
    // path's bias: the int8 product there has no zero points)
    const F = p.weight.length / O;
    const rq = new Int32Array(4 * O);
    rq.set(p.weightZero, 0); rq.set(p.multiplier, O); rq.set(p.shift, 2 * O);
    let foldable = attrs.kind === 'dense' && xv.dtype === 'i8' && p.weight instanceof Int8Array && F <= 131072;
    for (let o = 0; o < O && foldable; o++) {
      let sum = 0;
      for (let f = 0; f < F; f++) sum += p.weight[o * F + f]!;
      const v = (p.bias !== null ? p.bias[o]! : 0) - attrs.xZero * sum;
      if (p.weightZero[o] !== 0 || v < -(2 ** 31) || v >= 2 ** 31) foldable = false;
      rq[3 * O + o] = v;
    }
    const rqId = this.constantI32(`${n}.requant`, [4 * O], rq);
    const sc = this.constant(`${n}.scales`, [2 + O], [p.inputScale, p.outputScale, ...p.weightScale]);
    const ins = [xq, w, rqId, sc];
    if (p.bias !== null) ins.push(this.constantI32(`${n}.bias`, [O], p.bias));
    const outs = [{ dims: out, batched: xv.batched, dtype: (outputSigned ? 'i8' : 'u8') as DType }];
    // int32 sums of the SIMD path (dense only)
    if (attrs.kind === 'dense') outs.push({ dims: out, batched: xv.batched, dtype: 'i32' });
    return this.addNodeOuts(Op.Int8Linear, n, ins, outs, { ...attrs, simd: foldable })[0]!;
  }

  private checkQParams(n: string, scale: number, zp: number, lo: number, hi: number, qmin: number, qmax: number): void {
    if (!(scale > 0) || !Number.isFinite(scale) || !Number.isInteger(zp) || zp < lo || zp > hi ||
        !Number.isInteger(qmin) || !Number.isInteger(qmax) || qmin < lo || qmax > hi || qmin >= qmax) {
      throw new EdgennError('ARG', 'int8 qparams: scale > 0, an integer zero point and range inside the type', { node: n,
        expected: `zero point and qmin < qmax in [${lo}, ${hi}]`, actual: `scale ${scale}, zero point ${zp}, range ${qmin}..${qmax}` });
    }
  }

  private uniqueName(base: string): string {
    let u = base;
    for (let k = 1; this.names.has(u); k++) u = `${base}#${k}`;
    return u;
  }

  build(): Graph {
    if (this.inputs.length === 0) throw new EdgennError('GRAPH', 'graph has no input');
    if (this.outputs.length === 0) throw new EdgennError('GRAPH', 'graph has no output; call output()');
    return { values: this.values, nodes: this.nodes, inputs: [...this.inputs], outputs: [...this.outputs] };
  }

  private unary<K extends OpKind>(op: K, x: ValueId, attrs: OpAttrs[K], name?: string): ValueId {
    const n = this.nodeName(name);
    const xv = this.value(x);
    if (xv.dtype !== 'f32') {
      throw new EdgennError('SHAPE', 'op takes a float tensor', { node: n, tensor: xv.name, expected: 'f32', actual: xv.dtype });
    }
    return this.addNode(op, n, [x], xv.dims, attrs, xv.batched);
  }

  private nodeName(name: string | undefined): string {
    return name ?? String(this.layerCount);
  }

  private addNode<K extends OpKind>(op: K, name: string, inputs: number[], outDims: readonly number[],
                                    attrs: OpAttrs[K], batched = true, dtype: DType = 'f32'): ValueId {
    return this.addNodeOuts(op, name, inputs, [{ dims: outDims, batched, dtype }], attrs)[0]!;
  }

  private addNodeOuts<K extends OpKind>(op: K, name: string, inputs: number[],
                                        outs: readonly { dims: readonly number[]; batched: boolean; dtype: DType }[], attrs: OpAttrs[K]): ValueId[] {
    for (const o of outs) {
      if (o.dims.some((d) => !Number.isSafeInteger(d) || d < 0) || sizeOf(o.dims) > MAX_ELEMENTS) {
        throw new EdgennError('LIMIT', 'op output is absurdly large or malformed', { node: name, actual: `[${o.dims.join(', ')}]` });
      }
    }
    const ids = outs.map((o, i) => this.addValue(i === 0 ? `${name}:out` : `${name}:out${i}`, 'activation', o.dtype, o.dims, o.batched, null));
    const node: GraphNode<K> = { id: this.nodes.length, op, name, inputs, outputs: ids, attrs };
    this.nodes.push(node as unknown as GraphNode);
    this.layerCount++;
    return ids;
  }

  private addValue(name: string, role: ValueRole, dtype: DType, dims: readonly number[],
                   batched: boolean, init: Value["init"]): ValueId {
    let unique = name;
    for (let k = 1; this.names.has(unique); k++) unique = `${name}#${k}`;
    if (unique !== name && role !== 'activation') {
      throw new EdgennError('GRAPH', 'duplicate tensor name', { tensor: name });
    }
    this.names.add(unique);
    const v: Value = { id: this.values.length, name: unique, role, dtype, dims: [...dims], batched, trainable: false, init };
    this.values.push(v);
    return v.id;
  }
}

/**
 * The same graph with value ids in dependency order (graph inputs, then parameters and constants
 * in their order, then node outputs in node order) and unread values dropped: what graph passes
 * that insert nodes (runtime/quant/qat.ts) return, since the planner resolves views in id order.
 */
export function compactGraph(g: Graph): Graph {
  const used = new Set<number>([...g.inputs, ...g.outputs]);
  for (const n of g.nodes) { for (const i of n.inputs) used.add(i); for (const o of n.outputs) used.add(o); }
  const order: number[] = [...g.inputs];
  const produced = new Set<number>();
  for (const n of g.nodes) for (const o of n.outputs) produced.add(o);
  for (const v of g.values) if (used.has(v.id) && !produced.has(v.id) && !g.inputs.includes(v.id)) order.push(v.id);
  for (const n of g.nodes) for (const o of n.outputs) order.push(o);
  const remap = new Map<number, number>();
  const values: Value[] = order.map((old, id) => { remap.set(old, id); return { ...g.values[old]!, id, dims: [...g.values[old]!.dims] }; });
  const nodes = g.nodes.map((n, id) => ({ ...n, id, inputs: n.inputs.map((i) => remap.get(i)!), outputs: n.outputs.map((o) => remap.get(o)!) }) as GraphNode);
  return { values, nodes, inputs: g.inputs.map((i) => remap.get(i)!), outputs: g.outputs.map((o) => remap.get(o)!) };
}

/** Most elements one tensor may have (2^31 - 1 cells would already be an 8 GiB arena). */
const MAX_ELEMENTS = 2 ** 31 - 1;

function checkDims(name: string, dims: readonly number[], allowZero = false): void {
  for (const d of dims) {
    if (!Number.isInteger(d) || d < (allowZero ? 0 : 1) || d > 2 ** 31 - 1) {
      throw new EdgennError('SHAPE', 'dimensions must be positive integers', { tensor: name, actual: `[${dims.join(', ')}]` });
    }
  }
  if (sizeOf(dims) > MAX_ELEMENTS) {
    throw new EdgennError('LIMIT', 'tensor has more elements than an arena can hold', { tensor: name, actual: `[${dims.join(', ')}]` });
  }
}

export { sizeOf };
