// The lowering context of the ONNX importer: what an op rule (importers/onnx/ops/) sees while it
// turns one ONNX node into GraphBuilder calls. It is NOT the pipeline (import.ts) and holds no op
// knowledge. Each ONNX value name maps to a Sym:
//   - 'value': a runtime value of the graph being built (a ValueId) with its ONNX element type;
//   - 'const': a tensor known at import (initializer, Constant, folded subgraph) in storage form
//     (Float32Array for float types, Int32Array for integer/bool types). Shape vectors may be
//     *symbolic*: an entry equal to SYM_BATCH stands for the run's batch size (Shape of a batched
//     value); only shape-moving ops (Gather, Concat, Unsqueeze, Squeeze, Reshape, Identity, Cast
//     between integer types) may carry it, and Reshape consumes it.
// A const becomes a graph constant (or a parameter, for the weights of Gemm/MatMul/Conv) only when a
// runtime op reads it: `materialize`. Constant folding runs a node whose inputs are all consts
// through a throwaway one-node graph with the same rules and kernels (so folding and running
// cannot disagree) and turns its outputs back into consts.
import { EdgennError } from '../../runtime/errors.js';
import { GraphBuilder, type ValueId } from '../../runtime/graph/builder.js';
import { fullDims, IntWrap, sizeOf, type DType } from '../../runtime/graph/graph.js';
import { compile } from '../../runtime/model.js';
import { OnnxDataType, dataTypeName, nodeLabel, type OnnxAttribute, type OnnxNode, type OnnxTensor } from './model.js';

/** Stands for the batch size inside a symbolic shape vector (never a real int64 of a shape). */
export const SYM_BATCH = -2147483648;

export interface ConstSym {
  readonly kind: 'const';
  readonly elem: OnnxDataType;
  readonly dims: readonly number[];
  readonly data: Float32Array | Int32Array;
  /** true when `data` holds SYM_BATCH entries standing for the batch size */
  readonly symbolic: boolean;
  /** the initializer it came from (trainable weights are named after it) */
  readonly initializer?: string;
}
export interface ValueSym { readonly kind: 'value'; readonly id: ValueId; readonly elem: OnnxDataType }
export type Sym = ConstSym | ValueSym;

/** Element types edgenn computes with, and how: float types in f32 cells, integer types in i32. */
export const SUPPORTED_ELEMS: ReadonlySet<number> = new Set([
  OnnxDataType.FLOAT, OnnxDataType.DOUBLE, OnnxDataType.INT64, OnnxDataType.INT32,
  OnnxDataType.INT8, OnnxDataType.UINT8, OnnxDataType.BOOL,
]);
export function isFloatElem(e: number): boolean { return e === OnnxDataType.FLOAT || e === OnnxDataType.DOUBLE; }
export function storageOfElem(e: number): DType { return isFloatElem(e) ? 'f32' : 'i32'; }
export function wrapOfElem(e: number): number {
  return e === OnnxDataType.INT8 ? IntWrap.I8 : e === OnnxDataType.UINT8 ? IntWrap.U8 : e === OnnxDataType.BOOL ? IntWrap.Bool : IntWrap.I32;
}

/** A parameterised layer found while lowering (Gemm / MatMul / Conv with weights from initializers). */
export interface LayerRecord {
  readonly node: string;
  readonly opType: string;
  /** builder value ids of its parameters (weight first) */
  readonly params: ValueId[];
  /** initializer names they came from */
  readonly initializers: string[];
}

export interface ContextOptions {
  readonly file?: string;
  /** largest element count of one tensor (per sample when batched), checked before allocating */
  readonly maxElements: number;
}

const fmt = (d: readonly number[]): string => `[${d.map((v) => (v === -1 ? 'batch' : String(v))).join(', ')}]`;

export class Lowering {
  readonly b: GraphBuilder;
  readonly syms = new Map<string, Sym>();
  readonly layers: LayerRecord[] = [];
  /** weights already turned into parameters: initializer name (+ '^T' when transposed) -> id */
  private readonly params = new Map<string, ValueId>();
  private readonly materialized = new Map<Sym, ValueId>();
  /** nodes folded into a previous node (e.g. the Add of MatMul + Add): their outputs are aliased */
  readonly fused = new Set<OnnxNode>();
  /** consumers of each value name (for fusions); graph output names */
  consumers = new Map<string, OnnxNode[]>();
  graphOutputs = new Set<string>();
  /** resolves names not yet in `syms` (the importer converts initializers lazily) */
  resolve: (name: string) => Sym | undefined = () => undefined;
  /** the sym of a value name (converting an initializer on first use), or undefined */
  lookup(name: string): Sym | undefined { return this.syms.get(name) ?? this.resolve(name); }
  /** set while lowering a node: its label and opset version */
  node: OnnxNode | null = null;
  label = '';
  opset = 0;

  constructor(readonly opts: ContextOptions, readonly folding = false, seed = 0) {
    this.b = new GraphBuilder(seed);
  }

  // ---- errors ----
  error(code: 'SHAPE' | 'UNSUPPORTED' | 'GRAPH' | 'DATA' | 'LIMIT', msg: string, extra: { tensor?: string; expected?: string; actual?: string } = {}): EdgennError {
    return new EdgennError(code, msg, { ...(this.opts.file !== undefined ? { file: this.opts.file } : {}), node: this.label, ...extra });
  }

  // ---- node inputs ----
  /** The sym of input i, or undefined when the input is absent ('' or beyond the list). */
  maybe(i: number): Sym | undefined {
    const name = this.node!.inputs[i];
    if (name === undefined || name === '') return undefined;
    const s = this.lookup(name);
    if (s === undefined) throw this.error('GRAPH', 'input has no value (missing initializer or dangling input)', { tensor: name });
    return s;
  }
  input(i: number): Sym {
    const s = this.maybe(i);
    if (s === undefined) throw this.error('GRAPH', `required input ${i} is missing`, { expected: `at least ${i + 1} inputs`, actual: `${this.node!.inputs.length}` });
    return s;
  }
  inputName(i: number): string { return this.node!.inputs[i] ?? ''; }
  /** Input i as a const (throws UNSUPPORTED naming the tensor when it is only known at run time). */
  constInput(i: number, what: string): ConstSym {
    const s = this.input(i);
    if (s.kind !== 'const') {
      throw this.error('UNSUPPORTED', `${what} must be known at import (an initializer or a constant expression)`, { tensor: this.inputName(i) });
    }
    return s;
  }
  /** Integer values of a const (throws when symbolic unless allowed). */
  ints(c: ConstSym, what: string, allowSymbolic = false): number[] {
    if (c.symbolic && !allowSymbolic) throw this.error('UNSUPPORTED', `${what} depends on the batch size`);
    return Array.from(c.data, (v) => v);
  }

  // ---- attributes ----
  private attr(name: string): OnnxAttribute | undefined { return this.node!.attributes.get(name); }
  attrInt(name: string, dflt: number): number {
    const a = this.attr(name);
    if (a === undefined) return dflt;
    if (a.type !== 'int') throw this.error('DATA', `attribute ${name} must be an int`, { actual: a.type });
    return a.value;
  }
  attrFloat(name: string, dflt: number): number {
    const a = this.attr(name);
    if (a === undefined) return dflt;
    if (a.type !== 'float') throw this.error('DATA', `attribute ${name} must be a float`, { actual: a.type });
    return a.value;
  }
  attrInts(name: string): number[] | undefined {
    const a = this.attr(name);
    if (a === undefined) return undefined;
    if (a.type !== 'ints') throw this.error('DATA', `attribute ${name} must be ints`, { actual: a.type });
    return [...a.value];
  }
  attrString(name: string, dflt: string): string {
    const a = this.attr(name);
    if (a === undefined) return dflt;
    if (a.type !== 'string') throw this.error('DATA', `attribute ${name} must be a string`, { actual: a.type });
    return a.value;
  }
  attrAny(name: string): OnnxAttribute | undefined { return this.attr(name); }

  // ---- shapes and types ----
  /** Full dims of a sym; a batched value has -1 (batch) first. */
  dims(s: Sym): number[] {
    return s.kind === 'const' ? [...s.dims] : fullDims(this.b.value(s.id));
  }
  batched(s: Sym): boolean { return s.kind === 'value' && this.b.value(s.id).batched; }
  elem(s: Sym): OnnxDataType { return s.elem; }
  needElem(s: Sym, ok: (e: number) => boolean, what: string, tensor = ''): void {
    if (!ok(s.elem)) throw this.error('UNSUPPORTED', `${what} of type ${dataTypeName(s.elem)}`, { tensor });
  }

  // ---- values ----
  /** A runtime value id for the sym (constants are created on first use). */
  value(s: Sym): ValueId {
    if (s.kind === 'value') return s.id;
    const known = this.materialized.get(s);
    if (known !== undefined) return known;
    if (s.symbolic && !this.folding) throw this.error('UNSUPPORTED', 'a value computed from the batch size is used as data');
    const name = this.uniqueConstName(s.initializer ?? `${this.label}:const`);
    const id = s.data instanceof Int32Array ? this.b.constantI32(name, s.dims, s.data) : this.b.constant(name, s.dims, s.data);
    this.materialized.set(s, id);
    return id;
  }

  /**
   * A weight: the initializer of input i as a parameter ([O, I] layout after the optional
   * transpose of a 2-D tensor), shared when several nodes use it in the same layout. When folding
   * (or when the input is not an initializer) it is a plain constant.
   */
  weight(i: number, transpose2d = false): ValueId {
    return this.weightOf(this.constInput(i, 'weight'), transpose2d);
  }

  /** weight() for a const that is not an input of the current node (a fused bias) */
  weightOf(c: ConstSym, transpose2d = false): ValueId {
    if (this.folding || c.initializer === undefined || !isFloatElem(c.elem) || c.symbolic) {
      return this.value(transpose2d ? transposeConst(c) : c);
    }
    const key = transpose2d ? `${c.initializer}^T` : c.initializer;
    const known = this.params.get(key);
    if (known !== undefined) return known;
    const other = this.params.get(transpose2d ? c.initializer : `${c.initializer}^T`);
    if (other !== undefined) throw this.error('UNSUPPORTED', 'an initializer used as a weight in two layouts', { tensor: c.initializer });
    const t = transpose2d ? transposeConst(c) : c;
    const id = this.b.param(c.initializer, t.dims, { data: t.data, trainable: true });
    this.params.set(key, id);
    return id;
  }
  /** Records a parameterised layer (for trainable selection and inspect). */
  layer(opType: string, ids: ValueId[]): void {
    const params = ids.filter((id) => id >= 0 && this.b.value(id).role === 'param');
    if (params.length === 0) return;
    this.layers.push({ node: this.label, opType, params, initializers: params.map((id) => this.b.value(id).name) });
  }

  /** Sets output i of the current node. */
  out(i: number, s: Sym): void {
    const name = this.node!.outputs[i];
    if (name === undefined || name === '') return;
    const dims = this.dims(s).filter((d) => d !== -1);
    if (dims.some((d) => d < 0 || !Number.isSafeInteger(d)) || sizeOf(dims) > this.opts.maxElements) {
      throw this.error('LIMIT', 'tensor larger than the import limit', { tensor: name, expected: `<= ${this.opts.maxElements} elements`, actual: fmt(this.dims(s)) });
    }
    this.syms.set(name, s);
  }
  outValue(i: number, id: ValueId, elem: OnnxDataType): void { this.out(i, { kind: 'value', id, elem }); }
  /** true when output i is requested (present and non-empty) */
  wants(i: number): boolean { const n = this.node!.outputs[i]; return n !== undefined && n !== ''; }

  /** A new const in storage form (checks the size limit first). */
  makeConst(elem: OnnxDataType, dims: readonly number[], data: ArrayLike<number>, symbolic = false): ConstSym {
    const n = sizeOf(dims);
    if (dims.some((d) => !Number.isSafeInteger(d) || d < 0) || n > this.opts.maxElements) {
      throw this.error('LIMIT', 'constant larger than the import limit', { expected: `<= ${this.opts.maxElements} elements`, actual: fmt(dims) });
    }
    const store = isFloatElem(elem) ? Float32Array.from(data) : Int32Array.from(data);
    return { kind: 'const', elem, dims: [...dims], data: store, symbolic: symbolic && store.includes(SYM_BATCH) };
  }
  /** A scalar float constant value (e.g. alpha of Gemm) */
  scalar(v: number, elem: OnnxDataType = OnnxDataType.FLOAT): ValueId {
    return this.value(this.makeConst(elem, [], [v]));
  }

  private uniqueConstName(base: string): string {
    let name = base;
    for (let k = 1; this.nameTaken(name); k++) name = `${base}#${k}`;
    return name;
  }
  private nameTaken(name: string): boolean {
    return this.b.hasName(name);
  }

  /** Sets the current node (label for errors, opset for version-dependent rules). */
  enter(node: OnnxNode, index: number, opset: number): void {
    this.node = node;
    this.label = nodeLabel(node, index);
    this.opset = opset;
  }
}

/** [R, C] const -> [C, R] const (weights of MatMul / Gemm transB = 0 into PyTorch's [O, I]). */
export function transposeConst(c: ConstSym): ConstSym {
  if (c.dims.length !== 2) return c;
  const [R, C] = c.dims as [number, number];
  const out = c.data instanceof Int32Array ? new Int32Array(R * C) : new Float32Array(R * C);
  for (let r = 0; r < R; r++) for (let q = 0; q < C; q++) out[q * R + r] = c.data[r * C + q]!;
  return { ...c, dims: [C, R], data: out };
}

/** OnnxTensor -> const sym; int64 values outside int32 are refused (they cannot be stored). */
export function constFromTensor(t: OnnxTensor, maxElements: number, file: string | undefined, initializer?: string): ConstSym {
  const at = { ...(file !== undefined ? { file } : {}), tensor: t.name };
  if (!SUPPORTED_ELEMS.has(t.dataType)) {
    throw new EdgennError('UNSUPPORTED', `tensor of type ${dataTypeName(t.dataType)}`, { ...at, expected: 'float32, float64, int64, int32, int8, uint8 or bool' });
  }
  const n = t.data.length;
  if (n > maxElements) throw new EdgennError('LIMIT', 'tensor larger than the import limit', { ...at, expected: `<= ${maxElements} elements`, actual: String(n) });
  let data: Float32Array | Int32Array;
  if (isFloatElem(t.dataType)) {
    data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as Float64Array);
  } else if (t.data instanceof BigInt64Array) {
    data = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const v = t.data[i]!;
      if (v < -2147483647n || v > 2147483647n) {
        throw new EdgennError('UNSUPPORTED', `int64 value ${v} at index ${i} does not fit in int32 (edgenn stores int64 as int32)`, at);
      }
      data[i] = Number(v);
    }
  } else {
    data = Int32Array.from(t.data as ArrayLike<number>);
  }
  return { kind: 'const', elem: t.dataType, dims: [...t.dims], data, symbolic: false, ...(initializer !== undefined ? { initializer } : {}) };
}

/**
 * Runs `lower` (one node's rule) in a throwaway graph over const inputs and returns the consts it
 * produced for the node's outputs. The rule sees the same syms it would see at run time.
 */
export function foldNode(parent: Lowering, node: OnnxNode, index: number, opset: number, lower: (ctx: Lowering) => void): Map<string, ConstSym> {
  const ctx = new Lowering(parent.opts, true);
  for (const name of node.inputs) {
    if (name === '') continue;
    const s = parent.syms.get(name);
    if (s !== undefined) ctx.syms.set(name, s);
  }
  ctx.enter(node, index, opset);
  lower(ctx);
  const result = new Map<string, ConstSym>();
  const pending: { name: string; id: ValueId; elem: OnnxDataType }[] = [];
  for (const name of node.outputs) {
    if (name === '') continue;
    const s = ctx.syms.get(name);
    if (s === undefined) continue;
    if (s.kind === 'const') result.set(name, s);
    else pending.push({ name, id: s.id, elem: s.elem });
  }
  if (pending.length === 0) return result;
  // a graph needs an input: a dummy scalar nobody reads
  ctx.b.input('__fold_dummy', [], 'f32', false);
  for (const p of pending) ctx.b.output(p.id);
  const symbolic = node.inputs.some((n) => { const s = parent.syms.get(n); return s !== undefined && s.kind === 'const' && s.symbolic; });
  const model = compile(ctx.b.build(), { maxBatch: 1 });
  model.forward(1);
  pending.forEach((p, i) => {
    const slot = model.plan.outputs[i]!;
    const v = ctx.b.value(p.id);
    const src = v.dtype === 'i32' ? model.plan.arena.i32 : model.plan.arena.f32;
    const data = src.slice(slot.at, slot.at + slot.floats);
    result.set(p.name, { kind: 'const', elem: p.elem, dims: [...v.dims], data, symbolic: symbolic && data instanceof Int32Array && data.includes(SYM_BATCH) });
  });
  return result;
}
