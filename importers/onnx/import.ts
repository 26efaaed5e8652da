// ONNX model -> edgenn Graph, as a straight line (onnxruntime-web's importer, with a memory plan
// behind it): decode + validate (decode.ts, validate.ts) -> refuse unsupported nodes, all of them
// in one error -> fold BatchNormalization into the Conv/Gemm before it -> lower each node through
// its op rule (ops/) into the GraphBuilder, folding constant subgraphs (including the exporters'
// Shape -> Gather -> Unsqueeze -> Concat -> Reshape chains over a symbolic batch) and aliasing
// Identity / Dropout away -> choose which weights train. It does NOT plan or run anything: compile
// the returned graph (runtime/model.ts) for a batch size.
//
// Representation decisions (see also import-context.ts):
//  - float32 and float64 tensors compute in float32 cells; a float64 output is widened back on
//    read. (float64 results then carry float32 rounding: ~1e-7 relative, well inside the ONNX
//    conformance tolerance rtol 1e-3, but not float64-exact.)
//  - int64, int32, int8, uint8 and bool compute in int32 cells (arena's Int32Array view), integer
//    arithmetic wraps to the declared width; int64 values outside int32 are refused at import (and
//    on input) with an error naming the tensor.
//  - a graph input whose first dim is symbolic ('batch'), 0, -1 or unknown is batched; every other
//    dim must be fixed. All other values are batched when computed from a batched value.
//  - graph inputs consumed where a value must be known at import (Reshape shape, axes, ...) can be
//    bound to data with `bind` (the conformance runner does so for node tests).
//  - initializers used as weights of Gemm / MatMul / Conv are parameters ([out, in] layout), all
//    others constants; `trainable` picks which parameters train.
import { EdgennError } from '../../runtime/errors.js';
import type { Graph, Value } from '../../runtime/graph/graph.js';
import { BATCH, sizeOf } from '../../runtime/graph/graph.js';
import type { ValueId } from '../../runtime/graph/builder.js';
import type { Model } from '../../runtime/model.js';
import { decodeModel, loadModelFile, DEFAULT_MAX_TENSOR_BYTES, type DecodeOptions } from './decode.js';
import { validateGraph } from './validate.js';
import {
  DEFAULT_DOMAIN, OnnxDataType, dataTypeName, nodeLabel,
  type OnnxGraph, type OnnxModel, type OnnxNode, type OnnxTensor, type OnnxTensorData, type OnnxValueInfo,
} from './model.js';
import {
  Lowering, SUPPORTED_ELEMS, constFromTensor, foldNode, storageOfElem, isFloatElem,
  type ConstSym, type LayerRecord, type Sym,
} from './import-context.js';
import { findRule, MAX_OPSET } from './ops/index.js';

/** metadata_props key: JSON list of initializers that stay constants (written by export.ts) */
export const CONSTANT_WEIGHTS_KEY = 'edgenn.constant_weights';

export type TrainableSpec = 'all' | 'none' | { readonly names: readonly string[] } | { readonly lastLayers: number };

export interface ImportOptions extends DecodeOptions {
  /** which parameterised layers (Gemm / MatMul / Conv with initializer weights) train; default 'all' */
  readonly trainable?: TrainableSpec;
  /** graph inputs fixed at import (their values become constants; they are no longer inputs) */
  readonly bind?: ReadonlyMap<string, OnnxTensor>;
  /** value names to use as graph outputs instead of the file's (e.g. logits before a Softmax) */
  readonly outputs?: readonly string[];
  /** per graph input: full dims to use instead of the file's (-1 = batch) */
  readonly inputDims?: Readonly<Record<string, readonly number[]>>;
  /** fold BatchNormalization into a preceding Conv / Gemm; default true */
  readonly foldBatchNorm?: boolean;
  /** seed of the builder (unused by imports with all weights given) */
  readonly seed?: number;
}

export interface ImportedIO {
  readonly name: string;
  readonly elemType: OnnxDataType;
  /** full dims; -1 marks the batch dim */
  readonly dims: readonly number[];
  readonly batched: boolean;
  readonly value: ValueId;
}

export interface ImportedLayer {
  readonly node: string;
  readonly opType: string;
  /** parameter (initializer) names, weight first */
  readonly params: readonly string[];
  readonly trainable: boolean;
}

export interface UnsupportedNode {
  readonly node: string;
  readonly opType: string;
  readonly domain: string;
  readonly opset: number | null;
  readonly reason: string;
}

export interface ImportedModel {
  readonly graph: Graph;
  readonly source: OnnxModel;
  readonly file?: string;
  readonly inputs: readonly ImportedIO[];
  readonly outputs: readonly ImportedIO[];
  readonly layers: readonly ImportedLayer[];
  /** nodes of the file by op type */
  readonly opCounts: Readonly<Record<string, number>>;
  /** BatchNormalization nodes folded into the layer before them */
  readonly foldedBatchNorms: number;
  /** nodes evaluated at import (constant subgraphs) */
  readonly foldedNodes: number;
  /** Identity / Dropout nodes removed */
  readonly removedNodes: number;
}

/** Every node edgenn cannot import, with the reason (empty when the model is supported). */
export function unsupportedNodes(model: OnnxModel): UnsupportedNode[] {
  const out: UnsupportedNode[] = [];
  model.graph.nodes.forEach((n, i) => {
    const opset = model.opsetImports.get(n.domain) ?? null;
    const base = { node: nodeLabel(n, i), opType: n.opType, domain: n.domain, opset };
    if (n.domain !== DEFAULT_DOMAIN) { out.push({ ...base, reason: `domain ${n.domain} is not supported` }); return; }
    if (opset === null) { out.push({ ...base, reason: `the model imports no opset for domain ${n.domain}` }); return; }
    if (opset > MAX_OPSET) { out.push({ ...base, reason: `opset ${opset} is newer than ${MAX_OPSET}` }); return; }
    if ([...n.attributes.values()].some((a) => a.type === 'graph' || a.type === 'graphs')) {
      out.push({ ...base, reason: 'control flow (subgraph attributes) is not supported' });
      return;
    }
    if (findRule(n.opType, n.domain, opset) === undefined) out.push({ ...base, reason: 'no rule for this op and opset' });
  });
  return out;
}

/** Graph inputs read directly where a value must be known at import (bind them to import). */
export function constRequiredInputs(model: OnnxModel): string[] {
  const inputs = new Set(model.graph.inputs.map((v) => v.name).filter((n) => !model.graph.initializers.has(n)));
  const out = new Set<string>();
  for (const n of model.graph.nodes) {
    const r = findRule(n.opType, n.domain, model.opsetImports.get(n.domain) ?? 0);
    for (const i of r?.constInputs ?? []) {
      const name = n.inputs[i];
      if (name !== undefined && inputs.has(name)) out.add(name);
    }
  }
  return [...out];
}

export function importOnnx(src: Uint8Array | string | OnnxModel, opts: ImportOptions = {}): ImportedModel {
  const file = typeof src === 'string' ? src : opts.file;
  const at = file !== undefined ? { file } : {};
  let model = typeof src === 'string' ? loadModelFile(src, opts)
    : src instanceof Uint8Array ? decodeModel(src, opts) : validateGraph(src, file);

  const bad = unsupportedNodes(model);
  if (bad.length > 0) {
    const list = bad.map((u) => `${u.opType} (domain ${u.domain}, opset ${u.opset ?? '?'}) at node ${u.node}: ${u.reason}`);
    throw new EdgennError('UNSUPPORTED', `${bad.length} unsupported node${bad.length > 1 ? 's' : ''}:\n  ${list.join('\n  ')}`,
      { ...at, actual: bad.map((u) => `${u.opType}@${u.node}`).join(', ') });
  }
  let foldedBatchNorms = 0;
  if (opts.foldBatchNorm ?? true) {
    const r = foldBatchNorms(model.graph);
    foldedBatchNorms = r.count;
    if (r.count > 0) model = { ...model, graph: r.graph };
  }

  const g = model.graph;
  const maxElements = Math.floor((opts.maxTensorBytes ?? DEFAULT_MAX_TENSOR_BYTES) / 4);
  const ctx = new Lowering({ file, maxElements }, false, opts.seed ?? 0);
  const lazy = new Map<string, OnnxTensor>(g.initializers);
  const bind = opts.bind ?? new Map<string, OnnxTensor>();
  for (const [name, t] of bind) {
    if (!g.inputs.some((v) => v.name === name)) throw new EdgennError('ARG', 'bound tensor is not a graph input', { ...at, tensor: name });
    lazy.set(name, t);
  }
  const constWeights = constantWeights(model, file);
  const constOf = (name: string): ConstSym | undefined => {
    const t = lazy.get(name);
    if (t === undefined) return undefined;
    lazy.delete(name);
    const isParam = g.initializers.has(name) && !bind.has(name) && !constWeights.has(name);
    const c = constFromTensor(t, maxElements, file, isParam ? name : undefined);
    ctx.syms.set(name, c);
    return c;
  };
  ctx.resolve = constOf;

  // graph inputs
  const inputs: ImportedIO[] = [];
  for (const v of g.inputs) {
    if (lazy.has(v.name)) continue; // an initializer (IR < 4 lists them as inputs) or bound
    const io = declareInput(ctx, v, opts.inputDims?.[v.name], file);
    inputs.push(io);
    ctx.syms.set(v.name, { kind: 'value', id: io.value, elem: io.elemType });
  }

  // consumers (fusions look at them) and graph outputs
  const wanted = opts.outputs ?? g.outputs.map((v) => v.name);
  for (const n of g.nodes) for (const i of n.inputs) if (i !== '') ctx.consumers.set(i, [...(ctx.consumers.get(i) ?? []), n]);
  ctx.graphOutputs = new Set(wanted);

  const opCounts: Record<string, number> = {};
  let foldedNodes = 0, removedNodes = 0;
  g.nodes.forEach((node, index) => {
    opCounts[node.opType] = (opCounts[node.opType] ?? 0) + 1;
    if (ctx.fused.has(node)) return;
    for (const i of node.inputs) if (i !== '' && !ctx.syms.has(i)) constOf(i);
    const opset = model.opsetImports.get(node.domain)!;
    const r = findRule(node.opType, node.domain, opset)!;
    if (node.opType === 'Identity' || node.opType === 'Dropout') removedNodes++;
    const present = node.inputs.filter((i) => i !== '').map((i) => ctx.syms.get(i));
    const allConst = present.length > 0 && present.every((s) => s !== undefined && s.kind === 'const');
    if (allConst && r.noFold !== true) {
      const symbolic = present.some((s) => (s as ConstSym).symbolic);
      if (symbolic && r.movesValues !== true) {
        throw new EdgennError('UNSUPPORTED', `${node.opType} computes with the batch size (only shape-moving ops may)`, { ...at, node: nodeLabel(node, index) });
      }
      for (const [name, c] of foldNode(ctx, node, index, opset, (sub) => r.lower(sub))) ctx.syms.set(name, c);
      foldedNodes++;
    } else {
      ctx.enter(node, index, opset);
      r.lower(ctx);
    }
    node.outputs.forEach((o, k) => {
      if (o !== '' && !ctx.syms.has(o) && !(node.opType === 'Dropout' && k === 1)) {
        throw new EdgennError('GRAPH', `op rule produced no value for output ${k}`, { ...at, node: nodeLabel(node, index), tensor: o });
      }
    });
  });

  // graph outputs: each a distinct runtime value with the file's name
  const outputs: ImportedIO[] = [];
  const inputIds = new Set(inputs.map((i) => i.value));
  const used = new Set<ValueId>();
  for (const name of wanted) {
    const s: Sym | undefined = ctx.lookup(name);
    if (s === undefined) throw new EdgennError('GRAPH', 'graph output has no value', { ...at, tensor: name });
    ctx.label = `output ${name}`;
    let id = ctx.value(s);
    const v = ctx.b.value(id);
    // an internal value that happens to carry the output's name (e.g. '2:out' of node '2' when the
    // file's output '2:out' comes from another node) gives the name up
    const holder = v.name !== name ? ctx.b.find(name) : -1;
    if (holder >= 0 && ctx.b.value(holder).role === 'activation' && !used.has(holder)) {
      let alt = `${name}:internal`;
      for (let k = 1; ctx.b.hasName(alt); k++) alt = `${name}:internal#${k}`;
      ctx.b.rename(holder, alt);
    }
    if (inputIds.has(id) || used.has(id) || v.role === 'const' || v.role === 'param' || v.name !== name && ctx.b.hasName(name)) {
      id = ctx.b.copy(id, `${name}:copy`);
    }
    used.add(id);
    ctx.b.output(id, name);
    const ov = ctx.b.value(id);
    outputs.push({ name, elemType: s.elem, dims: ov.batched ? [BATCH, ...ov.dims] : [...ov.dims], batched: ov.batched, value: id });
  }
  if (inputs.length === 0) {
    // a graph of constants only (e.g. a single Constant node): give it a placeholder input
    ctx.b.input('__no_input', [], 'f32', false);
  }
  const graph = ctx.b.build();
  const layers = chooseTrainable(graph, ctx.layers, opts.trainable ?? 'all', file);
  return { graph, source: model, ...(file !== undefined ? { file } : {}), inputs, outputs, layers, opCounts, foldedBatchNorms, foldedNodes, removedNodes };
}

/** initializers an edgenn export marked as constants (metadata CONSTANT_WEIGHTS_KEY) */
function constantWeights(model: OnnxModel, file: string | undefined): Set<string> {
  const raw = model.metadata.get(CONSTANT_WEIGHTS_KEY);
  if (raw === undefined) return new Set();
  let list: unknown;
  try { list = JSON.parse(raw); } catch { list = null; }
  if (!Array.isArray(list) || !list.every((n) => typeof n === 'string')) {
    throw new EdgennError('DATA', `metadata ${CONSTANT_WEIGHTS_KEY} must be a JSON list of names`, { ...(file !== undefined ? { file } : {}), actual: raw.slice(0, 80) });
  }
  return new Set(list as string[]);
}

function declareInput(ctx: Lowering, v: OnnxValueInfo, override: readonly number[] | undefined, file: string | undefined): ImportedIO {
  const at = { ...(file !== undefined ? { file } : {}), tensor: v.name };
  if (v.type !== null && v.type.kind !== 'tensor') throw new EdgennError('UNSUPPORTED', `graph input of kind ${v.type.kind}`, at);
  if (!SUPPORTED_ELEMS.has(v.elemType)) {
    throw new EdgennError('UNSUPPORTED', `graph input of type ${dataTypeName(v.elemType)}`, { ...at, expected: 'float32, float64, int64, int32, int8, uint8 or bool' });
  }
  let full: number[];
  if (override !== undefined) full = [...override];
  else {
    if (v.shape === null) throw new EdgennError('UNSUPPORTED', 'graph input without a shape (give inputDims)', at);
    full = v.shape.map((d, i) => {
      if (i === 0 && (typeof d === 'string' || d === null || d === 0 || d === -1)) return BATCH;
      if (typeof d !== 'number' || d < 0) throw new EdgennError('UNSUPPORTED', `graph input with a symbolic dim at axis ${i} (only the first dim may be the batch)`, { ...at, actual: String(d) });
      return d;
    });
  }
  const batched = full.length > 0 && full[0] === BATCH;
  const dims = batched ? full.slice(1) : full;
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw new EdgennError('SHAPE', 'graph input dims must be non-negative integers', { ...at, actual: `[${full.join(', ')}]` });
  if (sizeOf(dims) > ctx.opts.maxElements) {
    throw new EdgennError('LIMIT', 'graph input larger than the import limit', { ...at, expected: `<= ${ctx.opts.maxElements} elements`, actual: `[${full.join(', ')}]` });
  }
  const id = ctx.b.input(v.name, dims, storageOfElem(v.elemType), batched);
  return { name: v.name, elemType: v.elemType, dims: full, batched, value: id };
}

function chooseTrainable(graph: Graph, layers: readonly LayerRecord[], spec: TrainableSpec, file: string | undefined): ImportedLayer[] {
  const params = graph.values.filter((v) => v.role === 'param');
  let train: (l: LayerRecord, i: number) => boolean;
  if (spec === 'all') train = () => true;
  else if (spec === 'none') train = () => false;
  else if ('names' in spec) {
    const known = new Set<string>();
    for (const l of layers) { known.add(l.node); for (const p of l.initializers) { known.add(p); known.add(p.replace(/\.(weight|bias)$/, '')); } }
    const missing = spec.names.filter((n) => !known.has(n));
    if (missing.length > 0) {
      throw new EdgennError('ARG', `no parameterised layer named ${missing.join(', ')}`,
        { ...(file !== undefined ? { file } : {}), expected: `node, initializer or layer prefix names: ${[...known].join(', ')}` });
    }
    const names = new Set(spec.names);
    train = (l) => names.has(l.node) || l.initializers.some((p) => names.has(p) || names.has(p.replace(/\.(weight|bias)$/, '')));
  } else {
    const n = spec.lastLayers;
    if (!Number.isInteger(n) || n < 0) throw new EdgennError('ARG', 'lastLayers must be a non-negative integer', { actual: String(n) });
    train = (_l, i) => i >= layers.length - n;
  }
  const trainableIds = new Set<number>();
  const out = layers.map((l, i) => {
    const t = train(l, i);
    if (t) for (const p of l.params) trainableIds.add(p);
    return { node: l.node, opType: l.opType, params: l.initializers, trainable: t };
  });
  for (const v of params) (v as Value).trainable = trainableIds.has(v.id);
  return out;
}

// ---------------------------------------------------------------------------------------------
// BatchNormalization folding: Conv/Gemm -> BN (inference, initializer parameters, each used once)
// becomes one Conv/Gemm with scaled weights: w' = w * s, b' = (b - mean) * s + beta, s = gamma /
// sqrt(var + eps), per output channel.

function foldBatchNorms(g: OnnxGraph): { graph: OnnxGraph; count: number } {
  const uses = new Map<string, number>();
  for (const n of g.nodes) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  for (const o of g.outputs) uses.set(o.name, (uses.get(o.name) ?? 0) + 1);
  const producer = new Map<string, OnnxNode>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);
  const init = new Map(g.initializers);
  const f32 = (name: string | undefined): OnnxTensor | undefined => {
    const t = name === undefined || name === '' ? undefined : init.get(name);
    return t !== undefined && t.dataType === OnnxDataType.FLOAT && (uses.get(t.name) ?? 0) === 1 ? t : undefined;
  };
  const replace = new Map<OnnxNode, OnnxNode | null>();
  let count = 0;
  for (const bn of g.nodes) {
    if (bn.opType !== 'BatchNormalization' || bn.domain !== DEFAULT_DOMAIN || bn.outputs.filter((o) => o !== '').length !== 1) continue;
    const tm = bn.attributes.get('training_mode');
    if (tm !== undefined && tm.type === 'int' && tm.value === 1) continue;
    const p = producer.get(bn.inputs[0]!);
    if (p === undefined || (p.opType !== 'Conv' && p.opType !== 'Gemm') || replace.has(p) || (uses.get(bn.inputs[0]!) ?? 0) !== 1) continue;
    const [gamma, beta, mean, vr] = [1, 2, 3, 4].map((i) => f32(bn.inputs[i]));
    const w = f32(p.inputs[1]), b = p.inputs[2] !== undefined && p.inputs[2] !== '' ? f32(p.inputs[2]) : undefined;
    if (gamma === undefined || beta === undefined || mean === undefined || vr === undefined || w === undefined) continue;
    if (p.inputs[2] !== undefined && p.inputs[2] !== '' && b === undefined) continue;
    const attr = (n: OnnxNode, k: string, d: number): number => { const a = n.attributes.get(k); return a !== undefined && (a.type === 'int' || a.type === 'float') ? a.value : d; };
    const C = gamma.data.length;
    const transB = p.opType === 'Gemm' ? attr(p, 'transB', 0) === 1 : true;
    if (p.opType === 'Gemm' && (attr(p, 'alpha', 1) !== 1 || attr(p, 'beta', 1) !== 1 || w.dims.length !== 2)) continue;
    const outCh = p.opType === 'Conv' || transB ? w.dims[0]! : w.dims[1]!;
    if (outCh !== C || [beta, mean, vr].some((t) => t.data.length !== C) || (b !== undefined && b.data.length !== C)) continue;
    const eps = attr(bn, 'epsilon', 1e-5);
    const s = new Float64Array(C);
    for (let c = 0; c < C; c++) s[c] = (gamma.data[c] as number) / Math.sqrt((vr.data[c] as number) + eps);
    const wd = new Float32Array(w.data as Float32Array);
    const per = wd.length / C;
    for (let i = 0; i < wd.length; i++) {
      const c = p.opType === 'Conv' || transB ? Math.floor(i / per) : i % C;
      wd[i] = wd[i]! * s[c]!;
    }
    const bd = new Float32Array(C);
    for (let c = 0; c < C; c++) bd[c] = ((b !== undefined ? (b.data[c] as number) : 0) - (mean.data[c] as number)) * s[c]! + (beta.data[c] as number);
    const biasName = b !== undefined ? b.name : beta.name;
    init.set(w.name, { ...w, data: wd as OnnxTensorData });
    init.set(biasName, { name: biasName, dataType: OnnxDataType.FLOAT, dims: [C], data: bd });
    for (const t of [gamma, mean, vr, ...(b !== undefined ? [beta] : [])]) init.delete(t.name);
    replace.set(p, { ...p, inputs: [p.inputs[0]!, w.name, biasName], outputs: [bn.outputs[0]!] });
    replace.set(bn, null);
    count++;
  }
  if (count === 0) return { graph: g, count };
  const nodes = g.nodes.map((n) => (replace.has(n) ? replace.get(n)! : n)).filter((n): n is OnnxNode => n !== null);
  return { graph: { ...g, nodes, initializers: init }, count };
}

// ---------------------------------------------------------------------------------------------
// Moving ONNX tensors in and out of a compiled model

/** Writes one input tensor (ONNX storage) into the model's input slot i; returns its batch (1 when
 * unbatched). Throws SHAPE / DATA / UNSUPPORTED naming the tensor. */
export function writeInput(model: Model, im: ImportedModel, i: number, t: OnnxTensor): number {
  const io = im.inputs[i];
  const slot = model.plan.inputs[i];
  if (io === undefined || slot === undefined) throw new EdgennError('ARG', `no input ${i}`, { expected: `< ${im.inputs.length}` });
  const at = { tensor: io.name };
  if (!SUPPORTED_ELEMS.has(t.dataType) || storageOfElem(t.dataType) !== storageOfElem(io.elemType)) {
    throw new EdgennError('DATA', 'input tensor of the wrong type', { ...at, expected: dataTypeName(io.elemType), actual: dataTypeName(t.dataType) });
  }
  const want = io.dims;
  const okShape = t.dims.length === want.length && t.dims.every((d, k) => want[k] === BATCH || want[k] === d);
  const b = io.batched ? t.dims[0]! : 1;
  if (!okShape || b < 1 || b > model.maxBatch) {
    throw new EdgennError('SHAPE', 'input tensor shape does not match the graph input', { ...at,
      expected: `[${want.map((d) => (d === BATCH ? `b <= ${model.maxBatch}` : String(d))).join(', ')}]`, actual: `[${t.dims.join(', ')}]` });
  }
  const arena = model.plan.arena;
  const n = t.data.length;
  if (isFloatElem(io.elemType)) {
    const d = t.data as Float32Array | Float64Array;
    for (let k = 0; k < n; k++) arena.f32[slot.at + k] = d[k]!;
  } else if (t.data instanceof BigInt64Array) {
    for (let k = 0; k < n; k++) {
      const v = t.data[k]!;
      if (v < -2147483648n || v > 2147483647n) throw new EdgennError('DATA', `int64 input value ${v} does not fit in int32`, at);
      arena.i32[slot.at + k] = Number(v);
    }
  } else {
    const d = t.data as ArrayLike<number>;
    for (let k = 0; k < n; k++) arena.i32[slot.at + k] = d[k]!;
  }
  return b;
}

/** Reads output i after a run of batch b as an ONNX tensor of the graph output's type. */
export function readOutput(model: Model, im: ImportedModel, i: number, b: number): OnnxTensor {
  const io = im.outputs[i]!;
  const slot = model.plan.outputs[i]!;
  const dims = io.dims.map((d) => (d === BATCH ? b : d));
  const n = sizeOf(dims);
  const arena = model.plan.arena;
  let data: OnnxTensorData;
  switch (io.elemType) {
    case OnnxDataType.FLOAT: data = arena.f32.slice(slot.at, slot.at + n); break;
    case OnnxDataType.DOUBLE: data = Float64Array.from(arena.f32.subarray(slot.at, slot.at + n)); break;
    case OnnxDataType.INT64: data = BigInt64Array.from(arena.i32.subarray(slot.at, slot.at + n), (v) => BigInt(v)); break;
    case OnnxDataType.INT32: data = arena.i32.slice(slot.at, slot.at + n); break;
    case OnnxDataType.INT8: data = Int8Array.from(arena.i32.subarray(slot.at, slot.at + n)); break;
    default: data = Uint8Array.from(arena.i32.subarray(slot.at, slot.at + n)); break; // UINT8, BOOL
  }
  return { name: io.name, dataType: io.elemType, dims, data };
}

export { type LayerRecord };
