// edgenn Graph (with the current, possibly trained, weights of a compiled Model) -> ONNX model.
// opset 13 (IR 7) or 17 (IR 8); producer 'edgenn'; batched graph inputs and outputs get a dynamic
// first dim (dim_param 'batch'); parameters and constants become initializers under their names.
// Dense layers over [B, I] become Gemm(transB = 1) with the [out, in] weight as is; dense layers
// over more dims become MatMul with the weight transposed back to [in, out] (+ Add of the bias),
// the lowering the importer folds back into one dense layer, so import -> export -> import gives
// the same graph. Convolutions become Conv with kernel_shape, strides, pads, dilations and group.
// It is NOT the byte encoder (encode.ts) and does not run anything. Throws EdgennError
// ('UNSUPPORTED') naming the node when an op has no ONNX form at the chosen opset.
import { EdgennError } from '../../runtime/errors.js';
import { Op, IntWrap, fullDims, OP_NAMES, type Graph, type GraphNode, type Value } from '../../runtime/graph/graph.js';
import type { FakeQuantAttrs } from '../../runtime/graph/graph.js';
import type { Model } from '../../runtime/model.js';
import { UnaryFn } from '../../runtime/ops/unary.js';
import { BinaryFn } from '../../runtime/ops/binary.js';
import { ReduceFn } from '../../runtime/ops/reduce.js';
import {
  DEFAULT_DOMAIN, OnnxDataType,
  type OnnxAttribute, type OnnxModel, type OnnxNode, type OnnxTensor, type OnnxValueInfo,
} from './model.js';
import { encodeModel } from './encode.js';
import { CONSTANT_WEIGHTS_KEY, type ImportedModel } from './import.js';

export interface ExportOptions {
  /** 13 (IR 7) or 17 (IR 8); default 17 */
  readonly opset?: 13 | 17;
  readonly graphName?: string;
  readonly producerVersion?: string;
  readonly docString?: string;
}

export type ExportSource = Model | ImportedModel | Graph;

export const IR_FOR_OPSET: Readonly<Record<13 | 17, number>> = { 13: 7, 17: 8 };

/** The ONNX form of a graph (with a Model's live weights, or the graph's initial ones). */
export function exportOnnx(src: ExportSource, opts: ExportOptions = {}): OnnxModel {
  const opset = opts.opset ?? 17;
  if (opset !== 13 && opset !== 17) throw new EdgennError('ARG', 'export opset must be 13 or 17', { actual: String(opset) });
  const { graph, weights, ioElems } = unpack(src);
  const ex = new Exporter(graph, weights, ioElems, opset);
  ex.run();
  return {
    irVersion: IR_FOR_OPSET[opset],
    opsetImports: new Map([[DEFAULT_DOMAIN, opset]]),
    producerName: 'edgenn',
    producerVersion: opts.producerVersion ?? '0.1.0',
    domain: '',
    modelVersion: 1,
    docString: opts.docString ?? '',
    graph: {
      name: opts.graphName ?? 'edgenn',
      nodes: ex.nodes,
      initializers: ex.initializers,
      inputs: graph.inputs.map((i) => ex.info(graph.values[i]!)),
      outputs: graph.outputs.map((o) => ex.info(graph.values[o]!)),
      valueInfo: [],
    },
    // constants that sit where the importer would make a trainable weight stay constants on re-import
    metadata: ex.frozenConstants.length > 0 ? new Map([[CONSTANT_WEIGHTS_KEY, JSON.stringify(ex.frozenConstants)]]) : new Map(),
  };
}


export function exportOnnxBytes(src: ExportSource, opts: ExportOptions = {}): Uint8Array {
  return encodeModel(exportOnnx(src, opts));
}

function isModel(s: ExportSource): s is Model { return 'plan' in s && 'graph' in s; }
function isImported(s: ExportSource): s is ImportedModel { return 'source' in s && 'graph' in s; }

type WeightData = Float32Array | Int32Array | Int8Array | Uint8Array;

function unpack(src: ExportSource): { graph: Graph; weights: (v: Value) => WeightData; ioElems: Map<number, OnnxDataType> } {
  const ioElems = new Map<number, OnnxDataType>();
  if (isImported(src)) {
    for (const io of [...src.inputs, ...src.outputs]) ioElems.set(io.value, io.elemType);
    return { graph: src.graph, weights: (v) => v.init!, ioElems };
  }
  if (isModel(src)) {
    const m = src;
    const names = new Set(m.paramNames());
    return {
      graph: m.graph,
      // trained values live in the arena; constants never change (their init is the value)
      weights: (v) => (v.dtype === 'f32' && names.has(v.name) ? Float32Array.from(m.param(v.name)) : v.init!),
      ioElems,
    };
  }
  return { graph: src, weights: (v) => v.init!, ioElems };
}

/** true when value `id` is read by quantization node n in a slot the QDQ form re-emits itself
 * (observer state, QAT control, LSQ scale / zero point, int8 qparams, requantization constants) */
function quantAux(n: GraphNode, id: number): boolean {
  const k = n.inputs.indexOf(id);
  switch (n.op) {
    case Op.FakeQuant: case Op.LearnableFakeQuant: return k >= 1;
    case Op.Int8Quantize: case Op.Int8Dequantize: return k === 1;
    case Op.Int8Linear: return k === 2 || k === 3;
    default: return false;
  }
}

/** the integer type of a quantized tensor from its range's lower end */
const qElem = (qmin: number): OnnxDataType => (qmin < -128 ? OnnxDataType.INT32 : qmin < 0 ? OnnxDataType.INT8 : OnnxDataType.UINT8);
const ints = (v: readonly number[]): OnnxAttribute => ({ type: 'ints', value: [...v] });
const int = (v: number): OnnxAttribute => ({ type: 'int', value: v });
const float = (v: number): OnnxAttribute => ({ type: 'float', value: v });

class Exporter {
  readonly nodes: OnnxNode[] = [];
  readonly initializers = new Map<string, OnnxTensor>();
  private readonly elems = new Map<number, OnnxDataType>();
  private readonly names = new Set<string>();

  constructor(private readonly g: Graph, private readonly weights: (v: Value) => WeightData,
              ioElems: Map<number, OnnxDataType>, private readonly opset: number) {
    for (const v of g.values) this.names.add(v.name);
    for (const [id, e] of ioElems) this.elems.set(id, e);
    this.inferConstElems();
  }

  readonly frozenConstants: string[] = [];

  run(): void {
    for (const v of this.g.values) {
      if (v.role !== 'param' && v.role !== 'const') continue;
      const readers = this.g.nodes.filter((n) => n.inputs.includes(v.id));
      // quantization state, controls, requantization constants: the Q/DQ nodes carry their own
      if (readers.length > 0 && readers.every((n) => quantAux(n, v.id))) continue;
      if (readers.length === 0 && !this.g.outputs.includes(v.id)) continue;
      this.initializer(v.name, this.elemOf(v), v.dims, this.weights(v));
      const weightSlot = readers.some((n) => (n.op === Op.Dense || n.op === Op.Conv1d || n.op === Op.Conv2d) && n.inputs.indexOf(v.id) > 0);
      if (v.role === 'const' && weightSlot) this.frozenConstants.push(v.name);
    }
    for (const n of this.g.nodes) this.node(n);
  }

  info(v: Value): OnnxValueInfo {
    const shape = v.batched ? ['batch', ...v.dims] : [...v.dims];
    const elemType = this.elemOf(v);
    return { name: v.name, elemType, shape, type: { kind: 'tensor', elemType, shape } };
  }

  // ---- element types: float values are FLOAT; integer ones follow their producer and use ----
  private elemOf(v: Value): OnnxDataType {
    const e = this.elems.get(v.id);
    if (e !== undefined) return e;
    if (v.dtype === 'f32') return OnnxDataType.FLOAT;
    if (v.dtype === 'i8') return OnnxDataType.INT8;
    if (v.dtype === 'u8') return OnnxDataType.UINT8;
    const p = this.g.nodes.find((n) => n.outputs.includes(v.id));
    let r: OnnxDataType = OnnxDataType.INT64;
    if (p !== undefined) {
      const in0 = this.g.values[p.inputs[0]!]!;
      switch (p.op) {
        case Op.Binary: {
          const fn = (p as GraphNode<typeof Op.Binary>).attrs.fn;
          r = fn === BinaryFn.Equal || fn === BinaryFn.Greater || fn === BinaryFn.Less || fn === BinaryFn.IEqual ||
            fn === BinaryFn.IGreater || fn === BinaryFn.ILess ? OnnxDataType.BOOL : this.elemOf(in0);
          break;
        }
        case Op.Cast: {
          const w = (p as GraphNode<typeof Op.Cast>).attrs.wrap;
          r = w === IntWrap.I8 ? OnnxDataType.INT8 : w === IntWrap.U8 ? OnnxDataType.UINT8 : w === IntWrap.Bool ? OnnxDataType.BOOL
            : in0.dtype === 'i32' ? this.elemOf(in0) : OnnxDataType.INT64;
          break;
        }
        case Op.Quantize: r = qElem((p as GraphNode<typeof Op.Quantize>).attrs.qmin); break;
        case Op.DynQuantize: r = OnnxDataType.UINT8; break;
        case Op.QMatMul: {
          const a = (p as GraphNode<typeof Op.QMatMul>).attrs;
          r = !a.requantize ? OnnxDataType.INT32 : a.qmin < 0 ? OnnxDataType.INT8 : OnnxDataType.UINT8;
          break;
        }
        case Op.Where: r = this.elemOf(this.g.values[p.inputs[1]!]!); break;
        case Op.ArgMax: r = OnnxDataType.INT64; break;
        default: r = this.elemOf(in0);
      }
    }
    this.elems.set(v.id, r);
    return r;
  }

  /** integer constants take the type their first reader expects */
  private inferConstElems(): void {
    const set = (id: number, e: OnnxDataType): void => {
      const v = this.g.values[id]!;
      if (v.dtype === 'i32' && (v.role === 'const' || v.role === 'param') && !this.elems.has(id)) this.elems.set(id, e);
    };
    for (const n of this.g.nodes) {
      switch (n.op) {
        case Op.Binary: {
          const [a, b] = n.inputs as [number, number];
          const va = this.g.values[a]!, vb = this.g.values[b]!;
          if (va.role === 'const' && vb.role !== 'const') set(a, this.elemOf(vb));
          else if (vb.role === 'const' && va.role !== 'const') set(b, this.elemOf(va));
          break;
        }
        case Op.Where: set(n.inputs[0]!, OnnxDataType.BOOL); break;
        case Op.Int8Linear: if (n.inputs.length > 4) set(n.inputs[4]!, OnnxDataType.INT32); break;
        case Op.Quantize: case Op.Dequantize: {
          const q = qElem((n as GraphNode<typeof Op.Quantize>).attrs.qmin);
          set(n.inputs[2]!, q);
          if (n.op === Op.Dequantize) set(n.inputs[0]!, q);
          break;
        }
        case Op.QMatMul: {
          const a = (n as GraphNode<typeof Op.QMatMul>).attrs;
          const q = a.qmin < 0 ? OnnxDataType.INT8 : OnnxDataType.UINT8;
          for (const i of [0, 1, 2, 3]) set(n.inputs[i]!, a.requantize ? q : OnnxDataType.UINT8);
          if (a.requantize) set(n.inputs[7]!, q);
          break;
        }
        default: break;
      }
    }
  }

  // ---- emitting ----
  private fresh(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  private initializer(name: string, elem: OnnxDataType, dims: readonly number[], data: ArrayLike<number>): void {
    let d: OnnxTensor['data'];
    switch (elem) {
      case OnnxDataType.FLOAT: d = Float32Array.from(data); break;
      case OnnxDataType.INT64: d = BigInt64Array.from(Array.from(data), (v) => BigInt(v)); break;
      case OnnxDataType.INT32: d = Int32Array.from(data); break;
      case OnnxDataType.INT8: d = Int8Array.from(data); break;
      default: d = Uint8Array.from(data); break;
    }
    this.initializers.set(name, { name, dataType: elem, dims: [...dims], data: d });
  }

  private constI64(base: string, v: readonly number[], scalar = false): string {
    const name = this.fresh(base);
    this.initializers.set(name, { name, dataType: OnnxDataType.INT64, dims: scalar ? [] : [v.length], data: BigInt64Array.from(v, (x) => BigInt(x)) });
    return name;
  }

  private constF(base: string, v: number): string {
    const name = this.fresh(base);
    this.initializers.set(name, { name, dataType: OnnxDataType.FLOAT, dims: [], data: Float32Array.of(v) });
    return name;
  }

  private emit(opType: string, name: string, inputs: readonly string[], outputs: readonly string[], attrs: Record<string, OnnxAttribute> = {}): void {
    this.nodes.push({ name: this.fresh(name), opType, domain: DEFAULT_DOMAIN, inputs: [...inputs], outputs: [...outputs], attributes: new Map(Object.entries(attrs)) });
  }

  private tmp(n: GraphNode, what: string): string { return this.fresh(`${n.name}:${what}`); }

  private node(n: GraphNode): void {
    const V = (i: number): Value => this.g.values[n.inputs[i]!]!;
    const inn = n.inputs.map((i) => this.g.values[i]!.name);
    const out = this.g.values[n.outputs[0]!]!;
    const y = out.name;
    const unsupported = (why: string): never => {
      throw new EdgennError('UNSUPPORTED', `cannot export ${OP_NAMES[n.op]}: ${why}`, { node: n.name, expected: `an op of ONNX opset ${this.opset}` });
    };
    switch (n.op) {
      case Op.Dense: {
        const x = V(0), w = V(1);
        if (fullDims(x).length === 2) {
          this.emit('Gemm', n.name, inn, [y], { alpha: float(1), beta: float(1), transB: int(1) });
          return;
        }
        // MatMul with the weight back in [in, out] layout (the importer transposes it again)
        const wt = this.initializers.get(w.name)!;
        const [O, I] = w.dims as [number, number];
        const src = wt.data as Float32Array;
        const t = new Float32Array(O * I);
        for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) t[i * O + o] = src[o * I + i]!;
        this.initializers.set(w.name, { ...wt, dims: [I, O], data: t });
        if (this.g.nodes.filter((q) => q.inputs.includes(w.id)).length > 1) unsupported('a weight shared by several dense layers over 3-D inputs');
        if (n.inputs.length < 3) { this.emit('MatMul', n.name, [inn[0]!, w.name], [y]); return; }
        const mm = this.tmp(n, 'matmul');
        this.emit('MatMul', n.name, [inn[0]!, w.name], [mm]);
        this.emit('Add', `${n.name}:bias`, [mm, inn[2]!], [y]);
        return;
      }
      case Op.Conv1d: {
        const a = (n as GraphNode<typeof Op.Conv1d>).attrs;
        this.emit('Conv', n.name, inn, [y], { dilations: ints([a.dilation]), group: int(1), kernel_shape: ints([V(1).dims[2]!]),
          pads: ints([a.padding, a.padding]), strides: ints([a.stride]) });
        return;
      }
      case Op.Conv2d: {
        const a = (n as GraphNode<typeof Op.Conv2d>).attrs;
        const w = V(1);
        const oneD = w.dims.length === 3;
        this.emit('Conv', n.name, inn, [y], oneD
          ? { dilations: ints([a.dilations[1]]), group: int(a.group), kernel_shape: ints([w.dims[2]!]), pads: ints([a.pads[1], a.pads[3]]), strides: ints([a.strides[1]]) }
          : { dilations: ints(a.dilations), group: int(a.group), kernel_shape: ints(w.dims.slice(2)), pads: ints(a.pads), strides: ints(a.strides) });
        return;
      }
      case Op.Relu: this.emit('Relu', n.name, inn, [y]); return;
      case Op.Sigmoid: this.emit('Sigmoid', n.name, inn, [y]); return;
      case Op.Tanh: this.emit('Tanh', n.name, inn, [y]); return;
      case Op.Sign: this.emit('Sign', n.name, inn, [y]); return;
      case Op.LeakyRelu: this.emit('LeakyRelu', n.name, inn, [y], { alpha: float((n as GraphNode<typeof Op.LeakyRelu>).attrs.negativeSlope) }); return;
      case Op.Step: {
        const gt = this.tmp(n, 'positive');
        this.emit('Greater', n.name, [inn[0]!, this.constF(`${n.name}:zero`, 0)], [gt]);
        this.emit('Cast', `${n.name}:cast`, [gt], [y], { to: int(OnnxDataType.FLOAT) });
        return;
      }
      case Op.Softplus: {
        const { beta } = (n as GraphNode<typeof Op.Softplus>).attrs;
        // NOTE: PyTorch's threshold (linear above it) equals log1p(exp) in float32 for threshold >= 20
        if (beta === 1) { this.emit('Softplus', n.name, inn, [y]); return; }
        const bx = this.tmp(n, 'beta_x'), sp = this.tmp(n, 'softplus');
        this.emit('Mul', `${n.name}:beta`, [inn[0]!, this.constF(`${n.name}:beta`, beta)], [bx]);
        this.emit('Softplus', n.name, [bx], [sp]);
        this.emit('Div', `${n.name}:unbeta`, [sp, this.constF(`${n.name}:beta_div`, beta)], [y]);
        return;
      }
      case Op.Softmax: case Op.LogSoftmax: {
        const axis = (n as GraphNode<typeof Op.Softmax>).attrs.axis + (V(0).batched ? 1 : 0);
        this.emit(n.op === Op.Softmax ? 'Softmax' : 'LogSoftmax', n.name, inn, [y], { axis: int(axis) });
        return;
      }
      case Op.Reshape: {
        const x = V(0);
        if (x.batched && out.dims.length === 1) { this.emit('Flatten', n.name, inn, [y], { axis: int(1) }); return; }
        const shape = x.batched ? [0, ...out.dims] : [...out.dims];
        this.emit('Reshape', n.name, [inn[0]!, this.constI64(`${n.name}:shape`, shape)], [y]);
        return;
      }
      case Op.Math: { this.math(n as GraphNode<typeof Op.Math>, inn[0]!, y); return; }
      case Op.Binary: {
        const fn = (n as GraphNode<typeof Op.Binary>).attrs.fn;
        const names = ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Equal', 'Greater', 'Less'];
        this.emit(names[fn % 10]!, n.name, inn, [y]);
        return;
      }
      case Op.Where: this.emit('Where', n.name, inn, [y]); return;
      case Op.MatMul: {
        const a = (n as GraphNode<typeof Op.MatMul>).attrs;
        if (!a.transA && !a.transB) {
          if (a.alpha === 1) { this.emit('MatMul', n.name, inn, [y]); return; }
          const mm = this.tmp(n, 'matmul');
          this.emit('MatMul', n.name, inn, [mm]);
          this.emit('Mul', `${n.name}:alpha`, [mm, this.constF(`${n.name}:alpha`, a.alpha)], [y]);
          return;
        }
        if (fullDims(V(0)).length !== 2 || fullDims(V(1)).length !== 2 || V(1).batched || (V(0).batched && a.transA)) {
          unsupported('a transposed product of stacked matrices');
        }
        this.emit('Gemm', n.name, inn, [y], { alpha: float(a.alpha), beta: float(1), transA: int(a.transA ? 1 : 0), transB: int(a.transB ? 1 : 0) });
        return;
      }
      case Op.Transpose: this.emit('Transpose', n.name, inn, [y], { perm: ints((n as GraphNode<typeof Op.Transpose>).attrs.perm) }); return;
      case Op.Concat: this.emit('Concat', n.name, inn, [y], { axis: int((n as GraphNode<typeof Op.Concat>).attrs.axis) }); return;
      case Op.Gather: this.emit('Gather', n.name, inn, [y], { axis: int((n as GraphNode<typeof Op.Gather>).attrs.axis) }); return;
      case Op.Reduce: {
        const a = (n as GraphNode<typeof Op.Reduce>).attrs;
        const keep = int(a.keepDims ? 1 : 0);
        if (a.fn === ReduceFn.Sum) this.emit('ReduceSum', n.name, [inn[0]!, this.constI64(`${n.name}:axes`, a.axes)], [y], { keepdims: keep });
        else this.emit('ReduceMean', n.name, inn, [y], { axes: ints(a.axes), keepdims: keep });
        return;
      }
      case Op.ArgMax: {
        const a = (n as GraphNode<typeof Op.ArgMax>).attrs;
        this.emit('ArgMax', n.name, inn, [y], { axis: int(a.axis), keepdims: int(a.keepDims ? 1 : 0), select_last_index: int(a.selectLastIndex ? 1 : 0) });
        return;
      }
      case Op.Cast: this.emit('Cast', n.name, inn, [y], { to: int(this.elemOf(out)) }); return;
      case Op.Copy: this.emit('Identity', n.name, inn, [y]); return;
      case Op.NllLoss: {
        const a = (n as GraphNode<typeof Op.NllLoss>).attrs;
        this.emit('NegativeLogLikelihoodLoss', n.name, inn, [y], {
          reduction: { type: 'string', value: a.reduction }, ...(a.ignoreIndex !== null ? { ignore_index: int(a.ignoreIndex) } : {}) });
        return;
      }
      case Op.Quantize: case Op.Dequantize: {
        const a = (n as GraphNode<typeof Op.Quantize>).attrs;
        if (a.blockSize > 0) unsupported('blocked quantization needs opset 21');
        this.emit(n.op === Op.Quantize ? 'QuantizeLinear' : 'DequantizeLinear', n.name, inn, [y], { axis: int(a.axis) });
        return;
      }
      case Op.DynQuantize: this.emit('DynamicQuantizeLinear', n.name, inn, n.outputs.map((o) => this.g.values[o]!.name)); return;
      case Op.QMatMul: {
        const a = (n as GraphNode<typeof Op.QMatMul>).attrs;
        if (!a.requantize) { this.emit('MatMulInteger', n.name, inn, [y]); return; }
        // edgenn order [a, b, aZero, bZero, aScale, bScale, yScale, yZero] -> ONNX's
        this.emit('QLinearMatMul', n.name, [inn[0]!, inn[4]!, inn[2]!, inn[1]!, inn[5]!, inn[3]!, inn[6]!, inn[7]!], [y]);
        return;
      }
      case Op.FakeQuant: case Op.LearnableFakeQuant: this.fakeQuant(n, inn[0]!, y); return;
      case Op.Int8Quantize: case Op.Int8Dequantize: {
        const a = (n as GraphNode<typeof Op.Int8Quantize>).attrs;
        const q = n.op === Op.Int8Quantize ? out : V(0);
        const qp = this.weights(V(1));
        const [s, z] = this.qparams(n, q.dtype === 'i8', [qp[0]!], [qp[1]!], true);
        if (n.op === Op.Int8Dequantize) { this.emit('DequantizeLinear', n.name, [inn[0]!, s, z], [y]); return; }
        this.quantizeTo(n, inn[0]!, s, z, y, q.dtype === 'i8', a.qmin, a.qmax, -1);
        return;
      }
      case Op.Int8Linear: { this.int8Linear(n as GraphNode<typeof Op.Int8Linear>, inn, y); return; }
      default: {
        const never: never = n.op;
        unsupported(`op ${String(never)}`);
      }
    }
  }

  // ---- quantization: QDQ form (QuantizeLinear / DequantizeLinear pairs, int8 weights, int32 biases) ----

  /** scale (float32) and zero point (int8 / uint8, saturated) initializers: scalars when per
   * tensor, [C] along `axis` otherwise */
  private qparams(n: GraphNode, signed: boolean, scale: ArrayLike<number>, zp: ArrayLike<number>, perTensor: boolean): [string, string] {
    const s = this.fresh(`${n.name}:scale`), z = this.fresh(`${n.name}:zero_point`);
    const dims = perTensor ? [] : [scale.length];
    const lo = signed ? -128 : 0, hi = signed ? 127 : 255;
    this.initializer(s, OnnxDataType.FLOAT, dims, Float32Array.from(scale));
    this.initializer(z, signed ? OnnxDataType.INT8 : OnnxDataType.UINT8, dims,
      Array.from(zp, (v) => Math.min(hi, Math.max(lo, Math.round(v)))));
    return [s, z];
  }

  /** QuantizeLinear into the type's range, then a Clip when the grid is narrower (reduce_range,
   * narrow int8, fewer bits), as PyTorch's exporter does */
  private quantizeTo(n: GraphNode, x: string, s: string, z: string, y: string, signed: boolean, qmin: number, qmax: number, axis: number): void {
    const lo = signed ? -128 : 0, hi = signed ? 127 : 255;
    const attrs: Record<string, OnnxAttribute> = axis >= 0 ? { axis: int(axis) } : {};
    if (qmin <= lo && qmax >= hi) { this.emit('QuantizeLinear', n.name, [x, s, z], [y], attrs); return; }
    const q = this.fresh(`${n.name}:q`);
    this.emit('QuantizeLinear', n.name, [x, s, z], [q], attrs);
    const elem = signed ? OnnxDataType.INT8 : OnnxDataType.UINT8;
    const mn = this.fresh(`${n.name}:qmin`), mx = this.fresh(`${n.name}:qmax`);
    this.initializer(mn, elem, [], [Math.max(lo, qmin)]);
    this.initializer(mx, elem, [], [Math.min(hi, qmax)]);
    this.emit('Clip', `${n.name}:clip`, [q, mn, mx], [y]);
  }

  /** FakeQuant / LearnableFakeQuant -> QuantizeLinear (+ Clip) -> DequantizeLinear with the
   * site's current qparams. NOTE: ONNX divides by the scale where PyTorch multiplies by its
   * reciprocal: codes can differ by one at exact ties (see runtime/quant/fake-quant.ts). */
  private fakeQuant(n: GraphNode, x: string, y: string): void {
    const a = n.attrs as FakeQuantAttrs;
    const xv = this.g.values[n.inputs[0]!]!;
    const C = a.axis < 0 ? 1 : fullDims(xv)[a.axis]!;
    let scale: ArrayLike<number>, zp: ArrayLike<number>;
    if (n.op === Op.FakeQuant) {
      const st = this.weights(this.g.values[n.inputs[1]!]!);
      scale = st.subarray(2 * C, 3 * C);
      zp = st.subarray(3 * C, 4 * C);
    } else {
      scale = this.weights(this.g.values[n.inputs[3]!]!);
      zp = a.scheme.symmetric ? new Float32Array(C) : this.weights(this.g.values[n.inputs[4]!]!);
    }
    const [s, z] = this.qparams(n, a.scheme.signed, scale, zp, a.axis < 0);
    const q = this.fresh(`${n.name}:quantized`);
    this.quantizeTo(n, x, s, z, q, a.scheme.signed, a.scheme.qmin, a.scheme.qmax, a.axis);
    const attrs: Record<string, OnnxAttribute> = a.axis >= 0 ? { axis: int(a.axis) } : {};
    this.emit('DequantizeLinear', `${n.name}:dequantize`, [q, s, z], [y], attrs);
  }

  /** Int8Linear -> DequantizeLinear(x) · DequantizeLinear(int8 weight, per-axis scales)
   * + DequantizeLinear(int32 bias, s_x * s_w) -> Gemm / Conv [-> Relu] -> QuantizeLinear: the
   * QDQ pattern onnxruntime fuses into its integer kernels */
  private int8Linear(n: GraphNode<typeof Op.Int8Linear>, inn: readonly string[], y: string): void {
    const a = n.attrs;
    const xv = this.g.values[n.inputs[0]!]!, wv = this.g.values[n.inputs[1]!]!, yv = this.g.values[n.outputs[0]!]!;
    const sc = this.weights(this.g.values[n.inputs[3]!]!);
    const rq = this.weights(this.g.values[n.inputs[2]!]!);
    const O = wv.dims[0]!;
    const sw = sc.subarray(2, 2 + O);
    const xs = xv.dtype === 'i8', ys = yv.dtype === 'i8', ws = wv.dtype === 'i8';
    const [sx, zx] = this.qparams(n, xs, [sc[0]!], [a.xZero], true);
    const xf = this.fresh(`${n.name}:x`);
    this.emit('DequantizeLinear', `${n.name}:dequantize_x`, [inn[0]!, sx, zx], [xf]);
    const [swn, zwn] = this.qparams(n, ws, sw, rq.subarray(0, O), false);
    const wf = this.fresh(`${n.name}:w`);
    this.emit('DequantizeLinear', `${n.name}:dequantize_w`, [inn[1]!, swn, zwn], [wf], { axis: int(0) });
    const ins = [xf, wf];
    if (n.inputs.length > 4) {
      const bs = this.fresh(`${n.name}:bias_scale`), bz = this.fresh(`${n.name}:bias_zero_point`);
      this.initializer(bs, OnnxDataType.FLOAT, [O], Float32Array.from(sw, (s) => Math.fround(sc[0]! * s)));
      this.initializer(bz, OnnxDataType.INT32, [O], new Int32Array(O));
      const bf = this.fresh(`${n.name}:b`);
      this.emit('DequantizeLinear', `${n.name}:dequantize_b`, [inn[4]!, bs, bz], [bf], { axis: int(0) });
      ins.push(bf);
    }
    const lin = this.fresh(`${n.name}:linear`);
    if (a.kind === 'dense') {
      if (fullDims(xv).length !== 2) throw new EdgennError('UNSUPPORTED', 'cannot export an int8 dense layer over more than [B, I]', { node: n.name });
      this.emit('Gemm', n.name, ins, [lin], { alpha: float(1), beta: float(1), transB: int(1) });
    } else {
      this.emit('Conv', n.name, ins, [lin], { dilations: ints([a.dilation]), group: int(1), kernel_shape: ints([wv.dims[2]!]),
        pads: ints([a.padding, a.padding]), strides: ints([a.stride]) });
    }
    const lo = ys ? -128 : 0;
    const relu = a.actMin > lo && a.actMin === a.yZero;
    let pre = lin;
    if (relu) { pre = this.fresh(`${n.name}:relu`); this.emit('Relu', `${n.name}:relu`, [lin], [pre]); }
    const [sy, zy] = this.qparams(n, ys, [sc[1]!], [a.yZero], true);
    this.quantizeTo(n, pre, sy, zy, y, ys, relu ? lo : a.actMin, a.actMax, -1);
  }

  private math(n: GraphNode<typeof Op.Math>, x: string, y: string): void {
    const { fn, p0, p1 } = n.attrs;
    switch (fn) {
      case UnaryFn.Exp: this.emit('Exp', n.name, [x], [y]); return;
      case UnaryFn.Log: this.emit('Log', n.name, [x], [y]); return;
      case UnaryFn.Neg: this.emit('Neg', n.name, [x], [y]); return;
      case UnaryFn.Abs: this.emit('Abs', n.name, [x], [y]); return;
      case UnaryFn.Sqrt: this.emit('Sqrt', n.name, [x], [y]); return;
      case UnaryFn.Reciprocal: this.emit('Reciprocal', n.name, [x], [y]); return;
      case UnaryFn.Erf: this.emit('Erf', n.name, [x], [y]); return;
      case UnaryFn.Softsign: this.emit('Softsign', n.name, [x], [y]); return;
      case UnaryFn.Elu: this.emit('Elu', n.name, [x], [y], { alpha: float(p0) }); return;
      case UnaryFn.Selu: this.emit('Selu', n.name, [x], [y], { alpha: float(p0), gamma: float(p1) }); return;
      case UnaryFn.HardSigmoid: this.emit('HardSigmoid', n.name, [x], [y], { alpha: float(p0), beta: float(p1) }); return;
      case UnaryFn.HardSwish: this.emit('HardSwish', n.name, [x], [y]); return;
      case UnaryFn.Clip: {
        this.emit('Clip', n.name, [x, this.constF(`${n.name}:min`, p0), this.constF(`${n.name}:max`, p1)], [y]);
        return;
      }
      case UnaryFn.Scale: {
        if (p1 === 0) { this.emit('Mul', n.name, [x, this.constF(`${n.name}:scale`, p0)], [y]); return; }
        const m = this.fresh(`${n.name}:scaled`);
        this.emit('Mul', n.name, [x, this.constF(`${n.name}:scale`, p0)], [m]);
        this.emit('Add', `${n.name}:shift`, [m, this.constF(`${n.name}:shift`, p1)], [y]);
        return;
      }
      case UnaryFn.Gelu: case UnaryFn.GeluTanh: {
        // no Gelu op before opset 20: 0.5 x (1 + erf(x / sqrt 2)) or the tanh form, spelled out
        const t = (w: string) => this.fresh(`${n.name}:${w}`);
        const inner = t('inner'), f = t('f'), one = t('one_plus'), xf = t('x_f');
        if (fn === UnaryFn.Gelu) {
          this.emit('Div', `${n.name}:div`, [x, this.constF(`${n.name}:sqrt2`, Math.SQRT2)], [inner]);
          this.emit('Erf', `${n.name}:erf`, [inner], [f]);
        } else {
          const x3 = t('x3'), s = t('sum');
          this.emit('Pow', `${n.name}:cube`, [x, this.constF(`${n.name}:three`, 3)], [x3]);
          const c3 = t('c_x3');
          this.emit('Mul', `${n.name}:c`, [x3, this.constF(`${n.name}:coef`, 0.044715)], [c3]);
          this.emit('Add', `${n.name}:add`, [x, c3], [s]);
          this.emit('Mul', `${n.name}:scale`, [s, this.constF(`${n.name}:k`, Math.sqrt(2 / Math.PI))], [inner]);
          this.emit('Tanh', `${n.name}:tanh`, [inner], [f]);
        }
        this.emit('Add', `${n.name}:one`, [f, this.constF(`${n.name}:1`, 1)], [one]);
        this.emit('Mul', `${n.name}:x`, [x, one], [xf]);
        this.emit('Mul', n.name, [xf, this.constF(`${n.name}:half`, 0.5)], [y]);
        return;
      }
      default:
        throw new EdgennError('UNSUPPORTED', `cannot export math function ${fn}`, { node: n.name });
    }
  }
}
