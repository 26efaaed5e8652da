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
                   batched: boolean, init: Float32Array | Int32Array | null): ValueId {
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
