// Convert: a QAT-trained or calibrated model (fake-quant sites from qat.ts, compiled) -> an int8
// graph: int8 weights stored as bytes (4x fewer weight bytes), int32 biases with scale s_x * s_w,
// integer accumulation, fixed-point requantization (int8.ts, TFLite / Jacob et al. 2018),
// saturating casts, fused ReLU as a raised lower clamp. As torch.ao.quantization.convert:
//   input site      -> Int8Quantize (float -> codes)
//   layer + sites   -> Int8Linear on codes (dense; conv1d, also a 1-D Conv2d of an ONNX import)
//   ReLU on codes   -> folded into the producing layer's clamp (max(q, zero point))
//   any other op    -> runs in float on Int8Dequantize'd codes (e.g. a final softmax)
// Codes saturate to their type's range (uint8 0..255, int8 -128..127), not to the observer's
// reduce_range grid: PyTorch's quantized tensors do the same (see the qat_model cases).
// Activation codes are stored as int8: a uint8 grid becomes the int8 grid with zero point - 128
// (identical real values), so dense layers can run on the WebAssembly SIMD int8 product.
// A layer whose output is not fake-quantized, or whose input is not on a grid, or a Conv2d over
// images, stays float with its weights fake-quantized into constants (what it computed in QAT).
// Not here: training (qat.ts), kernels (int8.ts), the ONNX form (importers/onnx/export.ts).
import { EdgennError } from '../errors.js';
import { GraphBuilder, type ValueId } from '../graph/builder.js';
import { Op, sizeOf, type Graph, type GraphNode, type Value, type Conv2dAttrs } from '../graph/graph.js';
import type { Model } from '../model.js';
import { prepareInt8Linear } from './int8.js';
import { fakeQuantForward, roundHalfEven } from './fake-quant.js';
import { channelView, type QScheme } from './qparams.js';

export interface ConvertOptions {
  /** rounding used to quantize weights and biases: 'torch' (default, x * 1/s) or 'onnx' (x / s) */
  readonly mode?: 'torch' | 'onnx';
}

interface SiteQ {
  readonly scheme: QScheme;
  readonly axis: number;
  readonly scale: Float32Array;
  /** integers */
  readonly zeroPoint: Float32Array;
}

/** A value held as codes in the new graph. */
interface Coded { readonly id: ValueId; readonly scale: number; readonly zp: number; readonly signed: boolean }

/** The trained values of a compiled model by name (parameters, constants, fake-quant state). */
function reader(model: Model): (v: Value) => Float32Array {
  const names = new Set(model.paramNames());
  return (v) => {
    if (names.has(v.name)) return Float32Array.from(model.param(v.name));
    if (v.init instanceof Float32Array) return v.init;
    throw new EdgennError('GRAPH', 'value has no float data', { tensor: v.name });
  };
}

/** The qparams a site fake-quantizes with now (observer state or LSQ parameters). */
function siteQ(g: Graph, n: GraphNode, data: (v: Value) => Float32Array): SiteQ {
  const a = (n as GraphNode<typeof Op.FakeQuant>).attrs;
  const st = data(g.values[n.inputs[1]!]!);
  const C = st.length / 4;
  if (n.op === Op.FakeQuant) return { scheme: a.scheme, axis: a.axis, scale: st.slice(2 * C, 3 * C), zeroPoint: st.slice(3 * C, 4 * C) };
  const scale = data(g.values[n.inputs[3]!]!).slice();
  const zp = a.scheme.symmetric ? new Float32Array(C)
    : data(g.values[n.inputs[4]!]!).map((z) => Math.min(Math.max(roundHalfEven(z), a.scheme.qmin), a.scheme.qmax));
  for (let c = 0; c < C; c++) scale[c] = Math.max(scale[c]!, Math.fround(a.scheme.eps));
  return { scheme: a.scheme, axis: a.axis, scale, zeroPoint: zp };
}

/** Activation codes are stored as int8 (the SIMD int8 product takes signed operands): a uint8
 *  grid 0..255 with zero point z is the int8 grid -128..127 with zero point z - 128, the same real
 *  values code for code. */
function codeZero(q: SiteQ): number {
  return q.scheme.signed ? q.zeroPoint[0]! : q.zeroPoint[0]! - 128;
}

function checkQ(q: SiteQ, name: string): void {
  for (let c = 0; c < q.scale.length; c++) {
    if (!(q.scale[c]! > 0) || !Number.isFinite(q.scale[c]!) || !Number.isInteger(q.zeroPoint[c]!)) {
      throw new EdgennError('STATE', 'fake-quant site has no usable qparams: train or calibrate the model before converting', {
        node: name, actual: `scale ${q.scale[c]}, zero point ${q.zeroPoint[c]} (channel ${c})` });
    }
  }
}

/** w fake-quantized with a site's qparams (the float weights a fallback layer keeps). */
function fakeQuantized(w: Float32Array, dims: readonly number[], q: SiteQ, mode: 'torch' | 'onnx'): Float32Array {
  const { outer, C, inner } = q.axis < 0 ? { outer: 1, C: 1, inner: w.length } : channelView(dims, q.axis);
  const a = new Float32Array(2 * w.length + 2 * C);
  a.set(w, 0); a.set(q.scale, 2 * w.length); a.set(q.zeroPoint, 2 * w.length + C);
  fakeQuantForward(a, w.length, 0, 2 * w.length, 2 * w.length + C, outer, C, inner, q.scheme.qmin, q.scheme.qmax, mode);
  return a.slice(w.length, 2 * w.length);
}

/**
 * The int8 graph of a compiled QAT / calibrated model (compile the result for inference).
 * Throws EdgennError('STATE') when a site never observed anything, ('UNSUPPORTED') when the
 * model has no fake-quant site.
 */
export function convertToInt8(model: Model, opts: ConvertOptions = {}): Graph {
  return convertGraph(model.graph, reader(model), opts);
}

/** convertToInt8 over a graph and its trained values (by value). */
export function convertGraph(g: Graph, data: (v: Value) => Float32Array, opts: ConvertOptions = {}): Graph {
  const mode = opts.mode ?? 'torch';
  if (!g.nodes.some((n) => n.op === Op.FakeQuant || n.op === Op.LearnableFakeQuant)) {
    throw new EdgennError('UNSUPPORTED', 'the model has no fake-quant sites: prepareQat, then train or calibrate it first');
  }
  const producer = new Map<number, GraphNode>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);
  const readers = new Map<number, GraphNode[]>();
  for (const n of g.nodes) for (const i of n.inputs) readers.set(i, [...(readers.get(i) ?? []), n]);
  const isOut = new Set(g.outputs);
  const sole = (v: number): GraphNode | undefined => {
    const r = readers.get(v) ?? [];
    return r.length === 1 && !isOut.has(v) ? r[0] : undefined;
  };
  const isSite = (n: GraphNode | undefined): n is GraphNode<typeof Op.FakeQuant | typeof Op.LearnableFakeQuant> => n !== undefined && (n.op === Op.FakeQuant || n.op === Op.LearnableFakeQuant);

  const b = new GraphBuilder();
  /** old value -> new float value */
  const flt = new Map<number, ValueId>();
  /** old value -> codes in the new graph */
  const coded = new Map<number, Coded>();
  const skip = new Set<GraphNode>();
  const copied = new Map<number, ValueId>();

  // values of the old graph that are still read as they are (inputs, float constants)
  for (const i of g.inputs) {
    const v = g.values[i]!;
    flt.set(i, b.input(v.name, v.dims, v.dtype === 'i32' ? 'i32' : 'f32', v.batched));
  }
  const constOf = (v: Value): ValueId => {
    let id = copied.get(v.id);
    if (id !== undefined) return id;
    if (v.dtype === 'i32') id = b.constantI32(v.name, v.dims, v.init as Int32Array);
    else id = b.constant(v.name, v.dims, data(v));
    copied.set(v.id, id);
    return id;
  };
  const floatOf = (old: number): ValueId => {
    const f = flt.get(old);
    if (f !== undefined) return f;
    const v = g.values[old]!;
    if (v.role === 'param' || v.role === 'const') return constOf(v);
    const p = producer.get(old);
    let c = coded.get(old);
    if (c === undefined && isSite(p)) {
      const xv = g.values[p.inputs[0]!]!;
      const q = siteQ(g, p, data);
      checkQ(q, p.name);
      let id: ValueId;
      if (xv.role === 'param' || xv.role === 'const') {
        // a weight site read by a float layer: the fake-quantized weights as a constant
        id = b.constant(`${xv.name}:fq`, xv.dims, fakeQuantized(data(xv), xv.dims, q, mode));
      } else if (q.axis >= 0) {
        // per-channel activation site: no int8 kernel; a float fake-quant with frozen qparams
        id = b.fakeQuant(floatOf(p.inputs[0]!), { scheme: q.scheme, axis: q.axis, scale: q.scale, zeroPoint: q.zeroPoint,
          freezeObserverAt: 0, rule: 'observer', mode }, p.name);
      } else {
        c = codesOf(p);
      }
      if (c === undefined) { flt.set(old, id!); return id!; }
    }
    if (c !== undefined) {
      const id = b.int8Dequantize(c.id, c.scale, c.zp, `${v.name}:dequantize`);
      flt.set(old, id);
      return id;
    }
    throw new EdgennError('GRAPH', 'value used before it is computed', { tensor: v.name });
  };
  /** codes of a per-tensor activation site's output (an Int8Quantize of its input, made once) */
  const codesOf = (site: GraphNode): Coded => {
    const have = coded.get(site.outputs[0]!);
    if (have !== undefined) return have;
    const q = siteQ(g, site, data);
    checkQ(q, site.name);
    const zp = codeZero(q);
    const c: Coded = { id: b.int8Quantize(floatOf(site.inputs[0]!), q.scale[0]!, zp, { signed: true, mode }, `${site.name}.quantize`),
      scale: q.scale[0]!, zp, signed: true };
    coded.set(site.outputs[0]!, c);
    return c;
  };
  /** codes of a layer input: already coded, or the output of a per-tensor activation site */
  const inputCodes = (x: number): Coded | null => {
    const c = coded.get(x);
    if (c !== undefined) return c;
    const p = producer.get(x);
    if (!isSite(p) || (p.attrs as { axis: number }).axis >= 0) return null;
    const pv = g.values[p.inputs[0]!]!;
    return pv.role === 'param' || pv.role === 'const' ? null : codesOf(p);
  };

  for (const n of g.nodes) {
    if (skip.has(n)) continue;
    const linear = n.op === Op.Dense || n.op === Op.Conv1d || n.op === Op.Conv2d;
    if (linear && tryInt8Layer(n)) continue;
    // sites are materialised where they are read (codes for int8 layers, float otherwise)
    if (isSite(n)) continue;
    if (n.op === Op.Reshape) {
      // a view of codes stays codes (a flatten between a conv and a dense layer)
      const c = inputCodes(n.inputs[0]!);
      if (c !== null) {
        const ov = g.values[n.outputs[0]!]!;
        const id = b.rawNode(n, [c.id], [{ dims: ov.dims, batched: ov.batched, dtype: c.signed ? 'i8' : 'u8' }])[0]!;
        coded.set(n.outputs[0]!, { ...c, id });
        continue;
      }
    }
    copyFloat(n);
  }

  function copyFloat(n: GraphNode): void {
    const ins = n.inputs.map((i) => {
      const v = g.values[i]!;
      return v.dtype === 'i32' && (v.role === 'const' || v.role === 'param') ? constOf(v) : floatOf(i);
    });
    const out = b.rawNode(n, ins, n.outputs.map((o) => g.values[o]!));
    n.outputs.forEach((o, k) => flt.set(o, out[k]!));
  }

  /** dense / conv whose input is on a grid (codes) and whose output goes into a site
   *  (optionally through a ReLU): one Int8Linear. */
  function tryInt8Layer(n: GraphNode): boolean {
    const ws = producer.get(n.inputs[1]!);
    if (!isSite(ws)) return false;
    const wv = g.values[ws.inputs[0]!]!;
    if (wv.role !== 'param' && wv.role !== 'const') return false;
    let conv1d: { stride: number; padding: number; dilation: number } | null = null;
    if (n.op === Op.Conv1d) conv1d = (n as GraphNode<typeof Op.Conv1d>).attrs;
    if (n.op === Op.Conv2d) {
      const a = (n as GraphNode<typeof Op.Conv2d>).attrs as Conv2dAttrs;
      if (wv.dims.length !== 3 || a.group !== 1 || a.pads[1] !== a.pads[3] || !g.values[n.inputs[0]!]!.batched) return false;
      conv1d = { stride: a.strides[1], padding: a.pads[1], dilation: a.dilations[1] };
    }
    if (n.op === Op.Dense && !g.values[n.inputs[0]!]!.batched) return false;
    // the output site: right after the layer, or after its sole ReLU (fused)
    const y = n.outputs[0]!;
    let after = sole(y);
    let relu: GraphNode | null = null;
    if (after !== undefined && after.op === Op.Relu) { relu = after; after = sole(after.outputs[0]!); }
    let outSite: GraphNode | undefined;
    let reluAfterSite: GraphNode | null = null;
    if (isSite(after)) outSite = after;
    else if (relu === null && isSite(sole(y) ?? undefined)) outSite = sole(y);
    if (outSite === undefined) return false;
    if (relu === null) {
      // unfused: site then ReLU on the codes (PyTorch's quantized relu) folds into the clamp
      const r = sole(outSite.outputs[0]!);
      if (r !== undefined && r.op === Op.Relu) reluAfterSite = r;
    }
    const oq = siteQ(g, outSite, data);
    if (oq.axis >= 0) return false;
    checkQ(oq, outSite.name);
    const xin = inputCodes(n.inputs[0]!);
    if (xin === null) return false;
    const wq = siteQ(g, ws, data);
    checkQ(wq, ws.name);
    const O = wv.dims[0]!;
    const bias = n.inputs.length > 2 ? data(g.values[n.inputs[2]!]!) : null;
    const ySigned = true, yZero = codeZero(oq);
    const lo = -128, hi = 127;
    const p = prepareInt8Linear({
      weight: data(wv), O, bias, weightScale: wq.scale, weightZero: wq.zeroPoint, weightQmin: wq.scheme.qmin, weightQmax: wq.scheme.qmax,
      inputScale: xin.scale, inputZero: xin.zp, outputScale: oq.scale[0]!, outputZero: yZero,
      outputQmin: lo, outputQmax: hi, relu: relu !== null || reluAfterSite !== null, mode,
    });
    const wScale = new Float32Array(O);
    for (let o = 0; o < O; o++) wScale[o] = wq.scale[wq.scale.length === 1 ? 0 : o]!;
    const id = b.int8Linear(xin.id, { weight: p.weight, weightDims: wv.dims, weightZero: p.weightZero, multiplier: p.multiplier,
      shift: p.shift, bias: p.bias, inputScale: xin.scale, outputScale: oq.scale[0]!, weightScale: wScale },
    { kind: conv1d === null ? 'dense' : 'conv1d', xZero: xin.zp, yZero, actMin: p.actMin, actMax: p.actMax,
      stride: conv1d?.stride ?? 1, padding: conv1d?.padding ?? 0, dilation: conv1d?.dilation ?? 1 }, ySigned, `${n.name}.int8`);
    const c: Coded = { id, scale: oq.scale[0]!, zp: yZero, signed: ySigned };
    coded.set(outSite.outputs[0]!, c);
    skip.add(outSite);
    if (relu !== null) skip.add(relu);
    if (reluAfterSite !== null) { coded.set(reluAfterSite.outputs[0]!, c); skip.add(reluAfterSite); }
    return true;
  }

  g.outputs.forEach((o) => {
    const id = floatOf(o);
    const name = g.values[o]!.name, other = b.find(name);
    if (other >= 0 && other !== id) b.rename(other, `${name}:float`);
    b.output(id, name);
  });
  return b.build();
}

/** Bytes of the layers' weights and biases of a graph (float32: 4 per value; int8 weights 1,
 *  int32 biases 4), following fake-quant sites back to the parameters they read. */
export function weightBytes(g: Graph): { weights: number; biases: number } {
  const producer = new Map<number, GraphNode>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);
  const source = (id: number): Value => {
    const p = producer.get(id);
    return p !== undefined && (p.op === Op.FakeQuant || p.op === Op.LearnableFakeQuant) ? g.values[p.inputs[0]!]! : g.values[id]!;
  };
  const bytes = (v: Value): number => sizeOf(v.dims) * (v.dtype === 'i8' || v.dtype === 'u8' ? 1 : 4);
  const seen = new Set<number>();
  let weights = 0, biases = 0;
  for (const n of g.nodes) {
    const linear = n.op === Op.Dense || n.op === Op.Conv1d || n.op === Op.Conv2d;
    if (!linear && n.op !== Op.Int8Linear) continue;
    const w = source(n.inputs[1]!);
    if (!seen.has(w.id)) { seen.add(w.id); weights += bytes(w); }
    const bi = linear ? n.inputs[2] : n.inputs[4];
    if (bi !== undefined && !seen.has(bi)) { seen.add(bi); biases += bytes(g.values[bi]!); }
  }
  return { weights, biases };
}
