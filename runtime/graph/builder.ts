// The graph builder: the one place where shapes are checked. Every method validates its inputs
// against the op's shape rule (in runtime/ops/<op>.ts) and throws an EdgennError naming the node
// and tensor; what it returns is a value id. Parameters get PyTorch's default initialisation
// (U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases) from a seeded generator unless
// given explicit data.
import { EdgennError } from '../errors.js';
import { Rng } from '../random.js';
import {
  Op, sizeOf, fmtDims,
  type Graph, type GraphNode, type OpKind, type OpAttrs, type Value, type ValueRole, type DType,
} from './graph.js';
import { denseShape } from '../ops/dense.js';
import { conv1dShape } from '../ops/conv1d.js';
import { softmaxAxis } from '../ops/softmax.js';

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

  value(id: ValueId): Value {
    const v = this.values[id];
    if (v === undefined) throw new EdgennError('GRAPH', `no value with id ${id}`);
    return v;
  }

  /** A batched graph input; dims are per sample (the batch dimension is implicit). */
  input(name: string, dims: readonly number[], dtype: DType = 'f32'): ValueId {
    checkDims(name, dims);
    const id = this.addValue(name, 'input', dtype, dims, true, null);
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
    const id = this.param(name, dims, { data, trainable: false });
    (this.values[id] as { role: ValueRole }).role = 'const';
    return id;
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
    if (free > 1 || dims.some((d) => !Number.isInteger(d) || d < -1 || d === 0) ||
        (free === 1 ? known === 0 || total % known !== 0 : known !== total)) {
      throw new EdgennError('SHAPE', 'reshape must keep the number of elements per sample',
        { node: n, tensor: xv.name, expected: `${total} elements`, actual: `[${dims.join(', ')}]` });
    }
    const out = dims.map((d) => (d === -1 ? total / known : d));
    return this.addNode(Op.Reshape, n, [x], out, {}, xv.batched);
  }

  /** Marks a value as a graph output (order of calls = order of outputs). */
  output(x: ValueId): ValueId {
    this.value(x);
    if (!this.outputs.includes(x)) this.outputs.push(x);
    return x;
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
                                    attrs: OpAttrs[K], batched = true): ValueId {
    const out = this.addValue(`${name}:out`, 'activation', 'f32', outDims, batched, null);
    const node: GraphNode<K> = { id: this.nodes.length, op, name, inputs, outputs: [out], attrs };
    this.nodes.push(node as unknown as GraphNode);
    this.layerCount++;
    return out;
  }

  private addValue(name: string, role: ValueRole, dtype: DType, dims: readonly number[],
                   batched: boolean, init: Float32Array | null): ValueId {
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

function checkDims(name: string, dims: readonly number[]): void {
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 1 || d > 2 ** 31 - 1) {
      throw new EdgennError('SHAPE', 'dimensions must be positive integers', { tensor: name, actual: `[${dims.join(', ')}]` });
    }
  }
}

export { sizeOf };
