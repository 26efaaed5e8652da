// QDQ ONNX models -> edgenn QAT graphs (and from there int8 graphs): the pattern pass that follows
// the importer. The importer lowers QuantizeLinear / DequantizeLinear literally (integer codes in
// i32 cells, float math in between); this pass recognises what they mean and rewrites them into
// fake-quant sites (runtime/quant/qat.ts's graph ops) with the file's qparams, frozen:
//   Q(x) [-> Clip on codes] -> DQ            (PyTorch's QAT export; activations of any QDQ file)
//       -> FakeQuant(x) (a weight site when x is a float initializer, made a trainable weight)
//   DQ(int8 / uint8 initializer)             (onnxruntime's quantization tool; edgenn's export)
//       -> a trainable float weight (dequantized: (q - zp) * s) + FakeQuant with those qparams,
//          which reproduces exactly the file's codes when converted back
//   DQ(int32 initializer)                    (quantized biases) -> a float bias (dequantized)
//   MatMul(x, weight site [, transB]) [+ Add(bias)]   (how Gemm / MatMul over a non-initializer
//       weight imports) -> Dense(x, weight site, bias): a layer convert.ts turns into Int8Linear
// The result trains like any QAT graph (fine-tuning of an imported QDQ model: observers stay
// frozen at the file's qparams unless re-enabled) and converts with runtime/quant/convert.ts into
// the int8 graph (1-byte weights, integer kernels). Codes are rounded as ONNX does (x / scale).
// QOperator forms (QLinearMatMul, MatMulInteger) are left to the importer, which runs them with its
// integer reference kernels (runtime/ops/quantize.ts) in i32 cells; this pass does not touch them.
import { EdgennError } from '../../runtime/errors.js';
import { GraphBuilder, compactGraph, type ValueId } from '../../runtime/graph/builder.js';
import { Op, fullDims, sizeOf, type Graph, type GraphNode, type Value } from '../../runtime/graph/graph.js';
import { BinaryFn } from '../../runtime/ops/binary.js';
import { quantScheme } from '../../runtime/quant/qparams.js';
import { convertGraph } from '../../runtime/quant/convert.js';
import { importOnnx, type ImportOptions, type ImportedModel } from './import.js';
import type { OnnxModel } from './model.js';

export interface QdqPassResult {
  /** the QAT graph: fake-quant sites where the file had Q/DQ */
  readonly graph: Graph;
  /** fake-quant sites made (weights and activations) */
  readonly sites: number;
  /** MatMul (+ Add) pairs turned into dense layers */
  readonly layers: number;
}

const INT32_MIN = -2147483648;

/** Rewrites the Q/DQ patterns of an imported graph into fake-quant sites (see the header). */
export function qdqToQat(g: Graph): QdqPassResult {
  const producer = new Map<number, GraphNode>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);
  const readers = new Map<number, GraphNode[]>();
  for (const n of g.nodes) for (const i of n.inputs) readers.set(i, [...(readers.get(i) ?? []), n]);
  const isOut = new Set(g.outputs);
  const soleReader = (v: number): GraphNode | undefined => {
    const r = readers.get(v) ?? [];
    return r.length === 1 && !isOut.has(v) ? r[0] : undefined;
  };
  const isConst = (v: Value): boolean => (v.role === 'const' || v.role === 'param') && v.init !== null;
  const nums = (id: number): number[] => Array.from(g.values[id]!.init as ArrayLike<number>);
  const same = (a: number, b: number): boolean => a === b || (isConst(g.values[a]!) && isConst(g.values[b]!) &&
    nums(a).length === nums(b).length && nums(a).every((v, i) => Object.is(v, nums(b)[i])));

  const b = GraphBuilder.continueFrom(g);
  const swap = new Map<number, ValueId>();
  const skip = new Set<GraphNode>();
  let sites = 0, layers = 0;
  const read = (v: number): number => swap.get(v) ?? v;

  /** the node reading a weight (through nothing else) and whether it wants it transposed */
  const transposedFor = (v: number): boolean => {
    const r = soleReader(v);
    return r !== undefined && r.op === Op.MatMul && r.inputs[1] === v && !(r as GraphNode<typeof Op.MatMul>).attrs.transB &&
      g.values[v]!.dims.length === 2;
  };
  const baseName = (name: string): string => name.replace(/_quantized$|_quant$/, '');
  const uniq = (name: string): string => { let u = name; for (let k = 1; b.hasName(u); k++) u = `${name}#${k}`; return u; };
  /** `name` for a new trainable value: the constant it replaces gives its name up */
  const takeName = (name: string): string => {
    const old = b.find(name);
    if (old < 0) return name;
    if (b.value(old).role !== 'const') return uniq(name);
    b.rename(old, uniq(`${name}:replaced`));
    return name;
  };

  /** Q(x) [-> integer clamps with constant bounds] -> D with the same qparams, or null */
  const pairOf = (d: GraphNode): { q: GraphNode; chain: GraphNode[]; qmin: number; qmax: number } | null => {
    const a = (d as GraphNode<typeof Op.Dequantize>).attrs;
    const [qId, sId, zId] = d.inputs as [number, number, number];
    let p = producer.get(qId);
    let qmin = a.qmin, qmax = a.qmax;
    const chain: GraphNode[] = [];
    while (p !== undefined && p.op === Op.Binary && chain.length < 4) {
      const fn = (p as GraphNode<typeof Op.Binary>).attrs.fn;
      const c = g.values[p.inputs[1]!]!;
      if ((fn !== BinaryFn.IMax && fn !== BinaryFn.IMin) || !isConst(c) || sizeOf(c.dims) !== 1 || soleReader(p.outputs[0]!) === undefined) break;
      const v = (c.init as Int32Array)[0]!;
      if (fn === BinaryFn.IMax) qmin = Math.max(qmin, v); else qmax = Math.min(qmax, v);
      chain.push(p);
      p = producer.get(p.inputs[0]!);
    }
    if (p === undefined || p.op !== Op.Quantize || !same(p.inputs[1]!, sId) || !same(p.inputs[2]!, zId) ||
        soleReader(p.outputs[0]!) === undefined || (p as GraphNode<typeof Op.Quantize>).attrs.blockSize !== 0 || a.blockSize !== 0) return null;
    return { q: p, chain, qmin, qmax };
  };
  const pairs = new Map<GraphNode, { q: GraphNode; chain: GraphNode[]; qmin: number; qmax: number }>();
  for (const n of g.nodes) {
    if (n.op !== Op.Dequantize || !isConst(g.values[n.inputs[1]!]!) || !isConst(g.values[n.inputs[2]!]!)) continue;
    const pr = pairOf(n);
    if (pr === null) continue;
    pairs.set(n, pr);
    skip.add(pr.q);
    pr.chain.forEach((c) => skip.add(c));
  }

  /** float data [dims] of a weight, transposed to [N, K] when its MatMul wants it */
  const weightSite = (name: string, dims: readonly number[], data: Float32Array, axis: number, transpose: boolean,
                      scale: ArrayLike<number>, zp: ArrayLike<number>, qmin: number, qmax: number): ValueId => {
    let d = data, dm = [...dims], ax = axis;
    if (transpose) {
      const [K, N] = dims as [number, number];
      d = new Float32Array(K * N);
      for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) d[n * K + k] = data[k * N + n]!;
      dm = [N, K];
      ax = axis < 0 ? -1 : 1 - axis;
    }
    const w = b.param(takeName(name), dm, { data: d, trainable: true });
    const symmetric = qmin < 0 && Array.from(zp).every((z) => z === 0);
    const scheme = quantScheme({ signed: qmin < 0, symmetric, qmin, qmax });
    sites++;
    return b.fakeQuant(w, { scheme, axis: ax, scale, zeroPoint: zp, freezeObserverAt: 0, rule: 'observer', mode: 'onnx' }, uniq(`${name}_fake_quant`));
  };

  for (const n of g.nodes) {
    if (skip.has(n)) continue;
    if (n.op === Op.Dequantize) {
      const a = (n as GraphNode<typeof Op.Dequantize>).attrs;
      const [qId, sId, zId] = n.inputs as [number, number, number];
      const qv = g.values[qId]!, sv = g.values[sId]!, zv = g.values[zId]!;
      const y = n.outputs[0]!;
      if (a.blockSize === 0 && isConst(sv) && isConst(zv)) {
        const scale = sv.init as Float32Array, zp = zv.init as Int32Array;
        const full = fullDims(qv);
        const axis = sizeOf(sv.dims) === 1 ? -1 : a.axis;
        if (isConst(qv)) {
          // a weight (or bias) stored as codes
          const data = dequantize(qv.init as Int32Array, full, scale, zp, axis);
          if (a.qmin <= INT32_MIN) {
            swap.set(y, b.param(takeName(baseName(qv.name)), qv.dims, { data, trainable: true }));
          } else {
            swap.set(y, weightSite(baseName(qv.name), qv.dims, data, axis, transposedFor(y), scale, zp, a.qmin, a.qmax));
          }
          continue;
        }
        // Q(x) [-> clamps on codes] -> DQ with the same qparams
        const pr = pairs.get(n);
        if (pr !== undefined) {
          const xId = pr.q.inputs[0]!, xv = g.values[xId]!;
          if (xv.dtype === 'f32' && isConst(xv)) {
            swap.set(y, weightSite(xv.name, xv.dims, xv.init as Float32Array, axis, transposedFor(y), scale, zp, pr.qmin, pr.qmax));
          } else {
            const symmetric = pr.qmin < 0 && Array.from(zp).every((z) => z === 0);
            sites++;
            swap.set(y, b.fakeQuant(read(xId), { scheme: quantScheme({ signed: pr.qmin < 0, symmetric, qmin: pr.qmin, qmax: pr.qmax }), axis,
              scale, zeroPoint: zp, freezeObserverAt: 0, rule: 'observer', mode: 'onnx' }, uniq(`${n.name}:fake_quant`)));
          }
          continue;
        }
      }
    }
    if (n.op === Op.MatMul && denseFrom(n)) continue;
    // Q / clamp nodes of a pair are skipped when their DQ is reached; a Quantize read elsewhere stays
    b.appendNode(n, n.inputs.map(read));
  }

  /** MatMul(x [B, K], weight site) [+ Add(bias [N])] -> Dense */
  function denseFrom(n: GraphNode): boolean {
    const a = (n as GraphNode<typeof Op.MatMul>).attrs;
    const x = read(n.inputs[0]!), w = read(n.inputs[1]!);
    const xv = b.value(x), wv = b.value(w);
    const wp = w === n.inputs[1] ? undefined : wv;
    if (wp === undefined || a.transA || a.alpha !== 1 || !xv.batched || xv.dims.length !== 1 || wv.batched || wv.dims.length !== 2) return false;
    // the weight site holds [N, K] (transposed at creation for transB = 0)
    if (wv.dims[1] !== xv.dims[0]) return false;
    const y = n.outputs[0]!;
    const add = soleReader(y);
    let bias = -1, out = y;
    if (add !== undefined && add.op === Op.Binary && (add as GraphNode<typeof Op.Binary>).attrs.fn === BinaryFn.Add) {
      const other = add.inputs[0] === y ? add.inputs[1]! : add.inputs[0]!;
      const ov = b.value(read(other));
      if (!ov.batched && ov.dims.length === 1 && ov.dims[0] === wv.dims[0] && ov.dtype === 'f32') {
        bias = ov.role === 'const' ? b.param(takeName(baseName(ov.name)), ov.dims, { data: ov.init as Float32Array, trainable: true }) : read(other);
        out = add.outputs[0]!;
        skip.add(add);
      }
    }
    swap.set(out, b.denseWith(x, w, bias, `${n.name}:dense`));
    layers++;
    return true;
  }

  g.outputs.forEach((o, i) => { const r = swap.get(o); if (r !== undefined) b.replaceOutput(i, r); });
  return { graph: compactGraph(b.build()), sites, layers };
}

/** (q - zp) * scale per tensor or along `axis` of full dims, float32 */
function dequantize(q: Int32Array, full: readonly number[], scale: Float32Array, zp: Int32Array, axis: number): Float32Array {
  const out = new Float32Array(q.length);
  let inner = 1, C = 1;
  if (axis >= 0) { C = full[axis]!; for (let i = axis + 1; i < full.length; i++) inner *= full[i]!; }
  for (let k = 0; k < q.length; k++) {
    const c = axis < 0 ? 0 : Math.floor(k / inner) % C;
    out[k] = (q[k]! - zp[c]!) * scale[c]!;
  }
  return out;
}

export interface ImportedQdq extends QdqPassResult {
  readonly imported: ImportedModel;
}

/** importOnnx + qdqToQat. Throws EdgennError('UNSUPPORTED') when the file has no Q/DQ pattern. */
export function importQdq(src: Uint8Array | string | OnnxModel, opts: ImportOptions = {}): ImportedQdq {
  const imported = importOnnx(src, opts);
  const r = qdqToQat(imported.graph);
  if (r.sites === 0) {
    throw new EdgennError('UNSUPPORTED', 'no QuantizeLinear / DequantizeLinear pattern to run in int8 in this model',
      { ...(imported.file !== undefined ? { file: imported.file } : {}) });
  }
  return { ...r, imported };
}

/** The int8 graph of a QDQ model (int8 weights as bytes, integer kernels where the pattern allows). */
export function importQdqInt8(src: Uint8Array | string | OnnxModel, opts: ImportOptions = {}): Graph {
  const q = importQdq(src, opts);
  return convertGraph(q.graph, (v) => {
    if (v.init instanceof Float32Array) return v.init;
    throw new EdgennError('GRAPH', 'value has no float data', { tensor: v.name });
  }, { mode: 'onnx' });
}
