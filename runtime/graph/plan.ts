// The planner: turns a graph into a schedule of instructions and one arena layout, once.
//  1. autodiff: which values need a gradient (trainable parameters, requested inputs, and what
//     depends on them), and the reverse sweep of backward instructions (+ the loss);
//  2. storage: one buffer per value, except views (reshape/flatten), which share their input's;
//  3. liveness: the first and last instruction touching each activation-class buffer;
//  4. placement: greedy by size (largest first, lowest offset free during its lifetime), as in
//     TFLite's and ggml's graph allocators; graph inputs/outputs, targets and the loss are pinned
//     and never overlap anything.
// Parameters, gradients and optimizer state are each one contiguous block, in that order, so an
// optimizer step is one loop over parallel slabs (the grad of a parameter sits at the same
// relative offset in the grads block as the parameter in the params block).
import { Arena, alignUp, ARENA_ALIGN } from '../arena.js';
import { EdgennError } from '../errors.js';
import { Op, sizeOf, fullDims, type Graph, type GraphNode, type Value, type ReduceAttrs, type QuantAttrs } from './graph.js';
import type { FakeQuantAttrs, LearnableFakeQuantAttrs, Int8QuantAttrs, Int8LinearAttrs } from './graph.js';
import { Ik, type Instr, type LossInstr, type Conv2dGeo, type ByteViews } from './instr.js';
import { channelView } from '../quant/qparams.js';
import { broadcastGeometry } from '../ops/broadcast.js';
import { binaryIsDifferentiable } from '../ops/binary.js';
import { matmulGeometry } from '../ops/matmul.js';
import { transposeGeometry } from '../ops/transpose.js';
import { reduceGeometry, ReduceFn } from '../ops/reduce.js';
import { NllReduction } from '../ops/nll-loss.js';
import { checkLossSpec, lossTakesIndices, type LossSpec } from '../losses/spec.js';
import { lossScratchFloats, lossRowFloats, lossAttrs } from '../losses/dispatch.js';


/** parameters of ops that have none */
const NO_PARAMS = new Float64Array(0);

/** Where an arena may live: a buffer (e.g. a WebAssembly.Memory's) and a byte offset in it. */
export interface ArenaBacking { readonly buffer: ArrayBuffer; readonly base: number }

export interface PlanOptions {
  /** largest batch the program runs; smaller batches reuse the same plan */
  readonly maxBatch: number;
  /** a training program when present: the loss applies to graph output 0 */
  readonly loss?: LossSpec;
  /** optimizer state floats per trainable parameter (SGD momentum 1, Adam 2, ...) */
  readonly optimizerStateFloats?: number;
  /** also compute the gradient with respect to the graph inputs */
  readonly inputGrads?: boolean;
  /** record training-health probes (dead ReLUs, saturated sigmoid/tanh) */
  readonly probes?: boolean;
  /** place the arena inside this buffer (e.g. a WebAssembly.Memory's) at byte `base` */
  readonly backing?: ArenaBacking | ((bytes: number) => ArenaBacking | null);
}

/** Largest arena planned (2 GiB - 1: the ArrayBuffer size every Node >= 18 accepts). */
export const MAX_ARENA_BYTES = 2 ** 31 - 1;

type StorageClass = 'param' | 'const' | 'pinned' | 'pool';

interface Storage {
  readonly id: number;
  readonly name: string;
  /** floats per sample when batched, else total floats */
  readonly floats: number;
  readonly batched: boolean;
  cls: StorageClass;
  first: number;
  last: number;
  /** byte offset inside its block */
  offset: number;
  /** bytes per element: 4 (f32 / i32 cells) or 1 ('i8' / 'u8' values, addressed by byte index) */
  elem: number;
}

/** A pinned or parameter buffer a caller can address: name, absolute f32/i32 index, per-sample size. */
export interface Slot {
  readonly name: string;
  readonly at: number;
  readonly dims: readonly number[];
  readonly batched: boolean;
  /** floats per sample when batched, else total floats */
  readonly floats: number;
}

export interface ProbeSlot {
  readonly node: string;
  readonly kind: 'dead' | 'sat-sigmoid' | 'sat-tanh';
  /** f32 index of [count, total] */
  readonly at: number;
}

export interface ArenaReport {
  readonly totalBytes: number;
  readonly paramsBytes: number;
  readonly gradsBytes: number;
  readonly optimizerStateBytes: number;
  readonly constantsBytes: number;
  readonly pinnedBytes: number;
  readonly activationsBytes: number;
  /** peak of the bytes of activation-class buffers live at the same time */
  readonly peakLiveActivationBytes: number;
  /** params + grads + optimizer state + constants + pinned + peak live activations */
  readonly lowerBoundBytes: number;
  readonly buffers: number;
}

export interface Plan {
  readonly arena: Arena;
  readonly maxBatch: number;
  readonly forward: readonly Instr[];
  readonly lossForward: readonly Instr[];
  readonly backward: readonly Instr[];
  readonly inputs: readonly Slot[];
  readonly outputs: readonly Slot[];
  /** trainable parameters in block order; `at` indexes the params block, grads at at + gradShift */
  readonly params: readonly Slot[];
  /** frozen parameters and constants */
  readonly constants: readonly Slot[];
  readonly inputGrads: readonly Slot[];
  readonly paramBlock: { readonly at: number; readonly floats: number };
  readonly gradBlock: { readonly at: number; readonly floats: number };
  readonly stateBlock: { readonly at: number; readonly floats: number };
  readonly target: Slot | null;
  readonly targetIsIndex: boolean;
  readonly lossAt: number;
  readonly lossRows: Slot | null;
  readonly probes: readonly ProbeSlot[];
  readonly report: ArenaReport;
}

interface ProtoInstr {
  readonly reads: readonly number[];
  readonly writes: readonly number[];
  readonly make: (at: (sid: number) => number) => Instr;
}

export function plan(graph: Graph, opts: PlanOptions): Plan {
  const B = opts.maxBatch;
  if (!Number.isInteger(B) || B < 1) {
    throw new EdgennError('ARG', 'maxBatch must be a positive integer', { actual: String(B) });
  }
  const training = opts.loss !== undefined;
  const values = graph.values;
  const storages: Storage[] = [];
  const newStorage = (name: string, floats: number, batched: boolean, cls: StorageClass): number => {
    storages.push({ id: storages.length, name, floats, batched, cls, first: Infinity, last: -Infinity, offset: 0, elem: 4 });
    return storages.length - 1;
  };

  // ---- storage for every value (views share their input's) ----
  const producer: (GraphNode | undefined)[] = new Array(values.length);
  for (const n of graph.nodes) for (const o of n.outputs) producer[o] = n;
  const valueStorage: number[] = new Array(values.length).fill(-1);
  for (const v of values) {
    const p = producer[v.id];
    if (p !== undefined && p.op === Op.Reshape) {
      valueStorage[v.id] = valueStorage[p.inputs[0]!]!;
      continue;
    }
    const cls: StorageClass = v.role === 'param' ? (v.trainable && training ? 'param' : 'const')
      : v.role === 'const' ? 'const' : v.role === 'input' ? 'pinned' : 'pool';
    valueStorage[v.id] = newStorage(v.name, sizeOf(v.dims), v.batched, cls);
    if (v.dtype === 'i8' || v.dtype === 'u8') storages[valueStorage[v.id]!]!.elem = 1;
  }
  for (const o of graph.outputs) storages[valueStorage[o]!]!.cls = 'pinned';

  // ---- autodiff: which values need a gradient ----
  const needsGrad: boolean[] = values.map((v) =>
    training && ((v.role === 'param' && v.trainable) || (v.role === 'input' && opts.inputGrads === true)));
  if (training) {
    // only float values carry gradients: an index, mask or integer result stops the flow
    for (const n of graph.nodes) {
      if (n.inputs.some((i) => needsGrad[i])) for (const o of n.outputs) if (values[o]!.dtype === 'f32') needsGrad[o] = true;
    }
  }
  const gradStorage: number[] = new Array(values.length).fill(-1);
  if (training) {
    for (const v of values) {
      if (!needsGrad[v.id]) continue;
      const p = producer[v.id];
      if (p !== undefined && p.op === Op.Reshape && needsGrad[p.inputs[0]!]) {
        continue; // filled below, once the input's grad storage exists (inputs come first)
      }
      const cls: StorageClass = v.role === 'param' ? 'param' : v.role === 'input' ? 'pinned' : 'pool';
      gradStorage[v.id] = newStorage(`grad(${v.name})`, sizeOf(v.dims), v.batched, cls === 'param' ? 'pool' : cls);
    }
    for (const v of values) {
      const p = producer[v.id];
      if (needsGrad[v.id] && p !== undefined && p.op === Op.Reshape && needsGrad[p.inputs[0]!]) {
        gradStorage[v.id] = gradStorage[p.inputs[0]!]!;
      }
    }
  }

  // ---- instructions ----
  const fwd: ProtoInstr[] = [];
  const lossF: ProtoInstr[] = [];
  const bwd: ProtoInstr[] = [];
  const probeSlots: { node: string; kind: ProbeSlot['kind']; sid: number }[] = [];
  const S = (vid: number): number => valueStorage[vid]!;
  // int8 instructions address 1-byte values through these views (set once the arena exists)
  const byteViews: ByteViews = { i8: new Int8Array(0), u8: new Uint8Array(0) };
  for (const n of graph.nodes) emitForward(n, values, S, fwd, byteViews);
  if (training && opts.probes === true) {
    for (const n of graph.nodes) {
      const kind = n.op === Op.Relu ? 'dead' : n.op === Op.Sigmoid ? 'sat-sigmoid' : n.op === Op.Tanh ? 'sat-tanh' : null;
      if (kind === null || !values[n.outputs[0]!]!.batched) continue;
      const sid = newStorage(`probe(${n.name})`, 2, false, 'pinned');
      const y = S(n.outputs[0]!);
      const per = sizeOf(values[n.outputs[0]!]!.dims);
      probeSlots.push({ node: n.name, kind, sid });
      fwd.push({ reads: [y], writes: [sid], make: (at) => ({ k: Ik.Probe, kind, y: at(y), n: per, out: at(sid) }) });
    }
  }

  let target: number = -1, lossOut = -1, rows = -1, gOut = -1, weightSid = -1;
  let lossWeight: Float32Array | null = null;
  const targetIsIndex = training && lossTakesIndices(opts.loss!);
  const written = new Set<number>();
  const zeroThenWrite = (sid: number, list: ProtoInstr[]): void => {
    if (written.has(sid) || storages[sid]!.cls === 'pinned') { written.add(sid); return; }
    written.add(sid);
    const st = storages[sid]!;
    list.push({ reads: [], writes: [sid], make: (at) => ({ k: Ik.Zero, at: at(sid), n: st.floats, batched: st.batched }) });
  };
  if (training) {
    const spec = opts.loss!;
    const predId = graph.outputs[0]!;
    const pred = values[predId]!;
    if (!pred.batched) throw new EdgennError('SHAPE', 'the loss needs a batched prediction', { tensor: pred.name });
    checkLossSpec(spec, pred.dims);
    const per = sizeOf(pred.dims);
    const C = pred.dims[pred.dims.length - 1]!;
    target = newStorage('target', targetIsIndex ? 1 : per, true, 'pinned');
    lossOut = newStorage('loss', 1, false, 'pinned');
    gOut = newStorage('loss.grad', 1, false, 'pinned');
    rows = newStorage('loss.rows', lossRowFloats(spec, per), true, 'pinned');
    const scratchFloats = lossScratchFloats(spec, per);
    const scratch = scratchFloats > 0 ? newStorage('loss.scratch', scratchFloats, true, 'pool') : -1;
    const w = spec.kind === 'cross-entropy' || spec.kind === 'nll' ? spec.weight
      : spec.kind === 'bce-with-logits' ? spec.posWeight : undefined;
    if (w !== undefined) {
      weightSid = newStorage('loss.weight', w.length, false, 'const');
      lossWeight = Float32Array.from(w);
    }
    const predS = S(predId);
    const dpred = gradStorage[predId]!;
    const attrs = lossAttrs(spec);
    const mk = (at: (sid: number) => number): LossInstr => ({
      spec, attrs, out: at(lossOut), rows: at(rows), scratch: scratch >= 0 ? at(scratch) : -1,
      pred: at(predS), dpred: dpred >= 0 ? at(dpred) : -1, target: at(target),
      weight: weightSid >= 0 ? at(weightSid) : -1, gOut: at(gOut), C, perSample: per, rowsPerSample: per / C,
    });
    const sc = scratch >= 0 ? [scratch] : [];
    lossF.push({ reads: [predS, target], writes: [lossOut, rows, ...sc], make: (at) => ({ k: Ik.LossF, loss: mk(at) }) });
    if (dpred >= 0) {
      zeroThenWrite(dpred, bwd);
      bwd.push({ reads: [predS, target, gOut, ...sc], writes: [dpred], make: (at) => ({ k: Ik.LossB, loss: mk(at) }) });
    }
    for (let i = graph.nodes.length - 1; i >= 0; i--) {
      emitBackward(graph.nodes[i]!, values, S, (v) => gradStorage[v]!, needsGrad, written, zeroThenWrite, bwd);
    }
    // QAT: the step counter of the graph's control block advances once per backward pass (a
    // training step), after every instruction that read it
    const ctl = graph.nodes.find((n) => n.op === Op.FakeQuant || n.op === Op.LearnableFakeQuant)?.inputs[n0CtlIndex];
    if (ctl !== undefined) {
      const cs = S(ctl);
      bwd.push({ reads: [], writes: [cs], make: (at) => ({ k: Ik.QatTick, at: at(cs) }) });
    }
    // requested input gradients must read as zero even when nothing flows back to them
    for (const i of graph.inputs) {
      const g = gradStorage[i]!;
      if (g >= 0 && !written.has(g)) {
        const st = storages[g]!;
        bwd.push({ reads: [], writes: [g], make: (at) => ({ k: Ik.Zero, at: at(g), n: st.floats, batched: st.batched }) });
      }
    }
  }

  // ---- liveness ----
  const all = [...fwd, ...lossF, ...bwd];
  all.forEach((p, t) => {
    for (const sid of [...p.reads, ...p.writes]) {
      const s = storages[sid]!;
      if (t < s.first) s.first = t;
      if (t > s.last) s.last = t;
    }
  });
  // NOTE: a forward activation read by no later instruction (dead output of a side branch) still
  // needs a place for its one write; first = last = its producer.
  for (const s of storages) if (s.first === Infinity) { s.first = 0; s.last = 0; }

  // ---- placement ----
  const bytesOf = (s: Storage): number => alignUp(s.elem * s.floats * (s.batched ? B : 1));
  // trainable params in graph order; grads parallel to them
  const paramIds = values.filter((v) => valueStorage[v.id]! >= 0 && storages[valueStorage[v.id]!]!.cls === 'param')
    .map((v) => v.id);
  let paramBytes = 0;
  for (const vid of paramIds) {
    const s = storages[S(vid)]!;
    s.offset = paramBytes;
    paramBytes += bytesOf(s);
  }
  const paramFloats = paramBytes / 4;
  const stateFloats = training ? (opts.optimizerStateFloats ?? 0) * paramFloats : 0;
  const constStorages = storages.filter((s) => s.cls === 'const');
  let constBytes = 0;
  for (const s of constStorages) { s.offset = constBytes; constBytes += bytesOf(s); }
  const pinned = storages.filter((s) => s.cls === 'pinned');
  let pinnedBytes = 0;
  for (const s of pinned) { s.offset = pinnedBytes; pinnedBytes += bytesOf(s); }
  // gradient storages of params live in the grads block (not the pool)
  const gradOfParam = new Map<number, number>();
  for (const vid of paramIds) gradOfParam.set(gradStorage[vid]!, S(vid));
  const pool = storages.filter((s) => s.cls === 'pool' && !gradOfParam.has(s.id));
  const poolBytes = placeGreedy(pool, bytesOf);
  const peak = peakLive(pool, bytesOf, all.length);

  const gradsBytes = training ? paramBytes : 0;
  const stateBytes = alignUp(4 * stateFloats);
  const blocks = { params: 0, grads: paramBytes, state: paramBytes + gradsBytes, consts: 0, pinned: 0, pool: 0 };
  blocks.consts = blocks.state + stateBytes;
  blocks.pinned = blocks.consts + constBytes;
  blocks.pool = blocks.pinned + pinnedBytes;
  const total = blocks.pool + poolBytes;
  if (!(total <= MAX_ARENA_BYTES)) {
    throw new EdgennError('LIMIT', 'the model needs a larger arena than one ArrayBuffer can be',
      { expected: `<= ${MAX_ARENA_BYTES} bytes`, actual: `${total} bytes for batch ${B}` });
  }
  // a backing function learns the arena's size first (a WebAssembly.Memory is sized once, here)
  const backing = typeof opts.backing === 'function' ? opts.backing(alignUp(total)) : opts.backing ?? null;
  const arena = backing !== null
    ? new Arena(total, backing.buffer, backing.base)
    : new Arena(total);
  const base = arena.base;
  const absByte = (s: Storage): number => {
    const g = gradOfParam.get(s.id);
    if (g !== undefined) return base + blocks.grads + storages[g]!.offset;
    switch (s.cls) {
      case 'param': return base + blocks.params + s.offset;
      case 'const': return base + blocks.consts + s.offset;
      case 'pinned': return base + blocks.pinned + s.offset;
      case 'pool': return base + blocks.pool + s.offset;
    }
  };
  // element index in the view of the storage's element size (byte index for 1-byte values)
  const at = (sid: number): number => { const st = storages[sid]!; return st.elem === 1 ? absByte(st) : absByte(st) >> 2; };
  byteViews.i8 = arena.i8;
  byteViews.u8 = arena.u8;

  // copy initial contents of parameters and constants
  for (const v of values) {
    if (v.init === null || (v.role !== 'param' && v.role !== 'const')) continue;
    if (v.init instanceof Int32Array) arena.i32.set(v.init, at(S(v.id)));
    else if (v.init instanceof Int8Array) arena.i8.set(v.init, at(S(v.id)));
    else if (v.init instanceof Uint8Array) arena.u8.set(v.init, at(S(v.id)));
    else arena.f32.set(v.init, at(S(v.id)));
  }
  if (lossWeight !== null) arena.f32.set(lossWeight, at(weightSid));
  if (gOut >= 0) arena.f32[at(gOut)] = 1;

  const slot = (v: Value, sid: number): Slot => ({ name: v.name, at: at(sid), dims: v.dims, batched: v.batched, floats: sizeOf(v.dims) });
  const report: ArenaReport = {
    totalBytes: arena.bytes,
    paramsBytes: paramBytes,
    gradsBytes,
    optimizerStateBytes: stateBytes,
    constantsBytes: constBytes,
    pinnedBytes,
    activationsBytes: poolBytes,
    peakLiveActivationBytes: peak,
    lowerBoundBytes: paramBytes + gradsBytes + stateBytes + constBytes + pinnedBytes + peak,
    buffers: storages.length,
  };
  const inputs = graph.inputs.map((i) => slot(values[i]!, S(i)));
  return {
    arena,
    maxBatch: B,
    forward: fwd.map((p) => p.make(at)),
    lossForward: lossF.map((p) => p.make(at)),
    backward: bwd.map((p) => p.make(at)),
    inputs,
    outputs: graph.outputs.map((o) => slot(values[o]!, S(o))),
    params: paramIds.map((vid) => slot(values[vid]!, S(vid))),
    // 1-byte constants (int8 weights) are not float slots: read them through the graph's init.
    // A parameter without data (withoutParamData) is one too: its values are set by name.
    constants: values.filter((v) => (v.init !== null || v.role === 'param') && storages[S(v.id)]!.cls === 'const' && storages[S(v.id)]!.elem === 4)
      .map((v) => slot(v, S(v.id))),
    inputGrads: training && opts.inputGrads === true
      ? graph.inputs.map((i) => ({ ...slot(values[i]!, gradStorage[i]!), name: `grad(${values[i]!.name})` })) : [],
    paramBlock: { at: (base + blocks.params) >> 2, floats: paramFloats },
    gradBlock: { at: (base + blocks.grads) >> 2, floats: training ? paramFloats : 0 },
    stateBlock: { at: (base + blocks.state) >> 2, floats: stateFloats },
    target: training ? { name: 'target', at: at(target), dims: targetIsIndex ? [] : values[graph.outputs[0]!]!.dims, batched: true, floats: storages[target]!.floats } : null,
    targetIsIndex,
    lossAt: lossOut >= 0 ? at(lossOut) : -1,
    lossRows: rows >= 0 ? { name: 'loss.rows', at: at(rows), dims: [storages[rows]!.floats], batched: true, floats: storages[rows]!.floats } : null,
    probes: probeSlots.map((p) => ({ node: p.node, kind: p.kind, at: at(p.sid) })),
    report,
  };
}

/** input index of the QAT control block of FakeQuant ([x, state, ctl]) */
const n0CtlIndex = 2;

function emitForward(n: GraphNode, values: readonly Value[], S: (v: number) => number, out: ProtoInstr[], views: ByteViews): void {
  const x = n.inputs[0]!;
  const y = n.outputs[0]!;
  const xs = S(x), ys = S(y);
  const xv = values[x]!, yv = values[y]!;
  const per = sizeOf(xv.dims);
  const bt = yv.batched || xv.batched ? 1 : 0;
  const ins = n.inputs.map(S);
  switch (n.op) {
    case Op.Dense: {
      const ws = S(n.inputs[1]!), bs = n.inputs.length > 2 ? S(n.inputs[2]!) : -1;
      const I = xv.dims[xv.dims.length - 1]!, O = values[n.inputs[1]!]!.dims[0]!;
      const R = sizeOf(xv.dims.slice(0, -1));
      out.push({ reads: bs >= 0 ? [xs, ws, bs] : [xs, ws], writes: [ys],
        make: (at) => ({ k: Ik.DenseF, y: at(ys), x: at(xs), w: at(ws), b: bs >= 0 ? at(bs) : -1, I, O, R, bt }) });
      return;
    }
    case Op.Conv1d: {
      const ws = S(n.inputs[1]!), bs = n.inputs.length > 2 ? S(n.inputs[2]!) : -1;
      const a = (n as GraphNode<typeof Op.Conv1d>).attrs;
      const [C, L] = xv.dims as [number, number];
      const [O, T] = values[y]!.dims as [number, number];
      const K = values[n.inputs[1]!]!.dims[2]!;
      out.push({ reads: bs >= 0 ? [xs, ws, bs] : [xs, ws], writes: [ys],
        make: (at) => ({ k: Ik.Conv1dF, y: at(ys), x: at(xs), w: at(ws), b: bs >= 0 ? at(bs) : -1,
          C, L, O, K, T, stride: a.stride, padding: a.padding, dilation: a.dilation }) });
      return;
    }
    case Op.Relu: case Op.Sigmoid: case Op.Tanh: case Op.Step: case Op.Sign: {
      const k = n.op === Op.Relu ? Ik.ReluF : n.op === Op.Sigmoid ? Ik.SigmoidF : n.op === Op.Tanh ? Ik.TanhF
        : n.op === Op.Step ? Ik.StepF : Ik.SignF;
      out.push({ reads: [xs], writes: [ys], make: (at) => ({ k, y: at(ys), x: at(xs), n: per, p: NO_PARAMS, bt }) });
      return;
    }
    case Op.LeakyRelu: {
      const s = (n as GraphNode<typeof Op.LeakyRelu>).attrs.negativeSlope;
      out.push({ reads: [xs], writes: [ys], make: (at) => ({ k: Ik.LeakyReluF, y: at(ys), x: at(xs), n: per, p: Float64Array.of(s), bt }) });
      return;
    }
    case Op.Softplus: {
      const { beta, threshold } = (n as GraphNode<typeof Op.Softplus>).attrs;
      out.push({ reads: [xs], writes: [ys], make: (at) => ({ k: Ik.SoftplusF, y: at(ys), x: at(xs), n: per, p: Float64Array.of(beta, threshold), bt }) });
      return;
    }
    case Op.Softmax: case Op.LogSoftmax: {
      const { outer, C, inner } = axisSplit(xv.dims, (n as GraphNode<typeof Op.Softmax>).attrs.axis);
      const k = n.op === Op.Softmax ? Ik.SoftmaxF : Ik.LogSoftmaxF;
      out.push({ reads: [xs], writes: [ys], make: (at) => ({ k, y: at(ys), x: at(xs), outer, C, inner, bt }) });
      return;
    }
    case Op.Reshape:
      return; // a view: same storage, nothing to run
    case Op.Math: {
      const { fn, p0, p1 } = (n as GraphNode<typeof Op.Math>).attrs;
      const p = Float64Array.of(p0, p1);
      out.push({ reads: [xs], writes: [ys], make: (at) => ({ k: Ik.MathF, fn, y: at(ys), x: at(xs), n: per, p, bt }) });
      return;
    }
    case Op.Binary: {
      const { fn, wrap } = (n as GraphNode<typeof Op.Binary>).attrs;
      const g = broadcastGeometry(fullDims(yv), n.inputs.map((i) => fullDims(values[i]!)));
      out.push({ reads: ins, writes: [ys], make: (at) => ({ k: Ik.BinaryF, fn, wrap, y: at(ys), x0: at(ins[0]!), x1: at(ins[1]!),
        os0: g.outerStride[0]!, os1: g.outerStride[1]!, st0: g.strides[0]!, st1: g.strides[1]!,
        per: g.per, rank: g.rank, shape: g.shape, idx: g.idx, bt }) });
      return;
    }
    case Op.Where: {
      const g = broadcastGeometry(fullDims(yv), n.inputs.map((i) => fullDims(values[i]!)));
      out.push({ reads: ins, writes: [ys], make: (at) => ({ k: Ik.WhereF, y: at(ys), c: at(ins[0]!), x0: at(ins[1]!), x1: at(ins[2]!),
        osc: g.outerStride[0]!, os0: g.outerStride[1]!, os1: g.outerStride[2]!, stc: g.strides[0]!, st0: g.strides[1]!, st1: g.strides[2]!,
        per: g.per, rank: g.rank, shape: g.shape, idx: g.idx, bt }) });
      return;
    }
    case Op.MatMul: {
      const a = (n as GraphNode<typeof Op.MatMul>).attrs;
      const g = matmulGeometry(n.name, fullDims(xv), fullDims(values[n.inputs[1]!]!), a.transA, a.transB);
      const alpha = Float64Array.of(a.alpha);
      out.push({ reads: ins, writes: [ys], make: (at) => ({ k: Ik.MatMulF, y: at(ys), a: at(ins[0]!), b: at(ins[1]!), alpha, bt,
        osA: g.osA, osB: g.osB, osY: g.osY, P: g.P, offA: g.offA, offB: g.offB, M: g.M, K: g.K, N: g.N,
        sAm: g.sAm, sAk: g.sAk, sBk: g.sBk, sBn: g.sBn }) });
      return;
    }
    case Op.Transpose: {
      const t = transposeWalk(xv, (n as GraphNode<typeof Op.Transpose>).attrs.perm);
      out.push({ reads: [xs], writes: [ys], make: (at) => ({ k: Ik.TransposeF, y: at(ys), x: at(xs), per, rank: t.shape.length,
        shape: t.shape, st: t.strides, idx: new Int32Array(t.shape.length), bt }) });
      return;
    }
    case Op.Concat: {
      const ax = perSampleAxis(yv, (n as GraphNode<typeof Op.Concat>).attrs.axis);
      const rows = sizeOf(yv.dims.slice(0, ax)), inner = sizeOf(yv.dims.slice(ax + 1));
      const yRow = yv.dims[ax]! * inner;
      let off = 0;
      n.inputs.forEach((i, j) => {
        const chunk = values[i]!.dims[ax]! * inner, o = off, is = ins[j]!;
        off += chunk;
        out.push({ reads: [is], writes: [ys], make: (at) => ({ k: Ik.ConcatF, y: at(ys), x: at(is), rows, chunk, yRow, off: o, bt }) });
      });
      return;
    }
    case Op.Gather: {
      const g = gatherWalk(values, n);
      out.push({ reads: ins, writes: [ys], make: (at) => ({ k: Ik.GatherF, y: at(ys), x: at(ins[0]!), ind: at(ins[1]!), ...g, bt }) });
      return;
    }
    case Op.Reduce: {
      const r = reduceWalk(xv, (n as GraphNode<typeof Op.Reduce>).attrs);
      out.push({ reads: [xs], writes: [ys], make: (at) => ({ k: Ik.ReduceF, y: at(ys), x: at(xs), ...r, idx: new Int32Array(r.rank), bt }) });
      return;
    }
    case Op.ArgMax: {
      const a = (n as GraphNode<typeof Op.ArgMax>).attrs;
      const { outer, C, inner } = axisSplit(xv.dims, perSampleAxis(xv, a.axis));
      out.push({ reads: [xs], writes: [ys], make: (at) => ({ k: Ik.ArgMaxF, y: at(ys), x: at(xs), outer, C, inner, selectLast: a.selectLastIndex, bt }) });
      return;
    }
    case Op.Cast: {
      const wrap = (n as GraphNode<typeof Op.Cast>).attrs.wrap;
      const fromF32 = xv.dtype === 'f32', toF32 = yv.dtype === 'f32';
      out.push({ reads: [xs], writes: [ys], make: (at) => ({ k: Ik.CastF, y: at(ys), x: at(xs), n: per, fromF32, toF32, wrap, bt }) });
      return;
    }
    case Op.Copy:
      out.push({ reads: [xs], writes: [ys], make: (at) => ({ k: Ik.CopyF, y: at(ys), x: at(xs), n: per, bt }) });
      return;
    case Op.Conv2d: {
      const g = convWalk(values, n as GraphNode<typeof Op.Conv2d>);
      const bs = n.inputs.length > 2 ? ins[2]! : -1;
      out.push({ reads: ins, writes: [ys], make: (at) => ({ k: Ik.Conv2dF, y: at(ys), x: at(xs), w: at(ins[1]!), b: bs >= 0 ? at(bs) : -1, ...g, bt }) });
      return;
    }
    case Op.NllLoss: {
      const g = nllWalk(values, n as GraphNode<typeof Op.NllLoss>);
      const ws = n.inputs.length > 2 ? ins[2]! : -1;
      out.push({ reads: ins, writes: [ys], make: (at) => ({ k: Ik.NllF, y: at(ys), logp: at(xs), target: at(ins[1]!), w: ws >= 0 ? at(ws) : -1, ...g, bt }) });
      return;
    }
    case Op.Quantize: case Op.Dequantize: {
      const a = (n as GraphNode<typeof Op.Quantize>).attrs;
      const g = quantWalk(xv, values[n.inputs[1]!]!, a);
      const k = n.op === Op.Quantize ? Ik.QuantizeF : Ik.DequantizeF;
      out.push({ reads: ins, writes: [ys], make: (at) => ({ k, y: at(ys), x: at(xs), s: at(ins[1]!), zp: at(ins[2]!), ...g, qmin: a.qmin, qmax: a.qmax, bt }) });
      return;
    }
    case Op.DynQuantize: {
      const [o0, o1, o2] = n.outputs.map(S) as [number, number, number];
      out.push({ reads: [xs], writes: [o0, o1, o2], make: (at) => ({ k: Ik.DynQuantizeF, y: at(o0), s: at(o1), zp: at(o2), x: at(xs), n: per, bt }) });
      return;
    }
    case Op.QMatMul: {
      const a = (n as GraphNode<typeof Op.QMatMul>).attrs;
      const bv = values[n.inputs[1]!]!;
      const g = matmulGeometry(n.name, fullDims(xv), fullDims(bv), false, false);
      const len = (i: number): number => sizeOf(values[n.inputs[i]!]!.dims);
      out.push({ reads: ins, writes: [ys], make: (at) => ({ k: Ik.QMatMulF, y: at(ys), a: at(ins[0]!), b: at(ins[1]!),
        azp: at(ins[2]!), nAzp: len(2), bzp: at(ins[3]!), nBzp: len(3),
        aS: a.requantize ? at(ins[4]!) : -1, nAs: a.requantize ? len(4) : 1, bS: a.requantize ? at(ins[5]!) : -1, nBs: a.requantize ? len(5) : 1,
        yS: a.requantize ? at(ins[6]!) : -1, yzp: a.requantize ? at(ins[7]!) : -1, qmin: a.qmin, qmax: a.qmax, bt,
        osA: g.osA, osB: g.osB, osY: g.osY, P: g.P, offA: g.offA, offB: g.offB, M: g.M, K: g.K, N: g.N,
        sAm: g.sAm, sAk: g.sAk, sBk: g.sBk, sBn: g.sBn }) });
      return;
    }
    case Op.FakeQuant: {
      const a = (n as GraphNode<typeof Op.FakeQuant>).attrs;
      const g = fakeQuantWalk(xv, a.axis);
      const st = ins[1]!, ctl = ins[2]!;
      const p = Float64Array.of(a.averaging);
      out.push({ reads: [xs, st, ctl], writes: [ys, st], make: (at) => ({ k: Ik.FakeQuantF, y: at(ys), x: at(xs), st: at(st), ctl: at(ctl),
        ...g, kind: a.observer, p, scheme: a.scheme, rule: a.rule, mode: a.mode, freezeAt: a.freezeObserverAt, fqFrom: a.fakeQuantFrom, bt }) });
      return;
    }
    case Op.LearnableFakeQuant: {
      const a = (n as GraphNode<typeof Op.LearnableFakeQuant>).attrs;
      const g = fakeQuantWalk(xv, a.axis);
      const [, st, ctl, sc, zp] = ins as [number, number, number, number, number];
      const p = lsqParams(a);
      out.push({ reads: [xs, st, ctl, sc, zp], writes: [ys, st, sc, zp], make: (at) => ({ k: Ik.LsqF, y: at(ys), x: at(xs), sc: at(sc), zp: at(zp),
        st: at(st), ctl: at(ctl), ...g, kind: a.observer, p, scheme: a.scheme, rule: a.rule, freezeAt: a.freezeObserverAt, fqFrom: a.fakeQuantFrom, bt }) });
      return;
    }
    case Op.Int8Quantize: case Op.Int8Dequantize: {
      const a = (n as GraphNode<typeof Op.Int8Quantize>).attrs as Int8QuantAttrs;
      const k = n.op === Op.Int8Quantize ? Ik.Int8QuantizeF : Ik.Int8DequantizeF;
      const signed = (n.op === Op.Int8Quantize ? yv : xv).dtype === 'i8';
      const qp = ins[1]!;
      out.push({ reads: [xs, qp], writes: [ys], make: (at) => ({ k, y: at(ys), x: at(xs), qp: at(qp), n: per, signed,
        qmin: a.qmin, qmax: a.qmax, mode: a.mode, v: views, bt }) });
      return;
    }
    case Op.Int8Linear: {
      const a = (n as GraphNode<typeof Op.Int8Linear>).attrs as Int8LinearAttrs;
      const wv = values[n.inputs[1]!]!;
      const [, ws, rq] = ins as [number, number, number];
      const bs = ins.length > 4 ? ins[4]! : -1;
      const O = wv.dims[0]!;
      const dense = a.kind === 'dense';
      const I = xv.dims[xv.dims.length - 1]!, R = sizeOf(xv.dims.slice(0, -1));
      const C = dense ? 0 : xv.dims[0]!, L = dense ? 0 : xv.dims[1]!, K = dense ? 0 : wv.dims[2]!, T = dense ? 0 : yv.dims[1]!;
      out.push({ reads: ins, writes: n.outputs.map(S), make: (at) => ({ k: dense ? Ik.Int8DenseF : Ik.Int8Conv1dF, y: at(ys), x: at(xs), w: at(ws),
        rq: at(rq), bias: bs >= 0 ? at(bs) : -1, xs: xv.dtype === 'i8', ys: yv.dtype === 'i8', ws: wv.dtype === 'i8',
        acc: n.outputs.length > 1 ? at(S(n.outputs[1]!)) : -1, simd: a.simd && n.outputs.length > 1 && xv.dtype === 'i8' && wv.dtype === 'i8',
        xZero: a.xZero, yZero: a.yZero, actMin: a.actMin, actMax: a.actMax, R, I, O, C, L, K, T,
        stride: a.stride, padding: a.padding, dilation: a.dilation, v: views, bt }) });
      return;
    }
    default: {
      const never: never = n.op;
      throw new EdgennError('UNSUPPORTED', `no forward for op ${String(never)}`, { node: n.name });
    }
  }
}

function emitBackward(n: GraphNode, values: readonly Value[], S: (v: number) => number, G: (v: number) => number,
                      needsGrad: readonly boolean[], written: Set<number>,
                      zeroThenWrite: (sid: number, list: ProtoInstr[]) => void, out: ProtoInstr[]): void {
  const x = n.inputs[0]!;
  const y = n.outputs[0]!;
  const dy = G(y);
  // nothing flows into this node's output (e.g. behind a step/sign unit): its inputs get no
  // contribution from it, which is the zero gradient
  if (dy < 0 || !written.has(dy) || !needsGrad[y]) return;
  const xv = values[x]!, yv = values[y]!;
  const per = sizeOf(xv.dims);
  const bt = yv.batched || xv.batched ? 1 : 0;
  const dxs = needsGrad[x] ? G(x) : -1;
  /** grad storage of input i when it needs one (zeroed before its first write), else -1 */
  const gradIn = (i: number): number => {
    const v = n.inputs[i];
    if (v === undefined || !needsGrad[v]) return -1;
    const g = G(v);
    if (g >= 0) zeroThenWrite(g, out);
    return g;
  };
  switch (n.op) {
    case Op.Dense: case Op.Conv1d: case Op.Conv2d: {
      const w = n.inputs[1]!, b = n.inputs.length > 2 ? n.inputs[2]! : -1;
      const dws = needsGrad[w] ? G(w) : -1;
      const dbs = b >= 0 && needsGrad[b] ? G(b) : -1;
      if (dxs < 0 && dws < 0 && dbs < 0) return;
      if (dxs >= 0) zeroThenWrite(dxs, out);
      // a computed weight / bias (e.g. fake-quantized in QAT) has a pool gradient: zero it first
      // (parameter gradients live in the grads block, zeroed by zeroGrad, and accumulate)
      if (dws >= 0 && values[w]!.role !== 'param') zeroThenWrite(dws, out);
      if (dbs >= 0 && values[b]!.role !== 'param') zeroThenWrite(dbs, out);
      // NOTE: a frozen weight with a trainable input still needs dx: the kernels take a scratch
      // dw target only when the weight is trainable; otherwise dw goes to -1 and is skipped.
      const xs = S(x), ws = S(w);
      const writes = [dxs, dws, dbs].filter((s) => s >= 0);
      if (n.op === Op.Dense) {
        const I = xv.dims[xv.dims.length - 1]!, O = values[w]!.dims[0]!;
        const R = sizeOf(xv.dims.slice(0, -1));
        out.push({ reads: [dy, xs, ws], writes, make: (at) => ({ k: Ik.DenseB, dx: dxs >= 0 ? at(dxs) : -1,
          dw: dws >= 0 ? at(dws) : -1, db: dbs >= 0 ? at(dbs) : -1, dy: at(dy), x: at(xs), w: at(ws), I, O, R, bt }) });
      } else if (n.op === Op.Conv1d) {
        const a = (n as GraphNode<typeof Op.Conv1d>).attrs;
        const [C, L] = xv.dims as [number, number];
        const [O, T] = values[y]!.dims as [number, number];
        const K = values[w]!.dims[2]!;
        out.push({ reads: [dy, xs, ws], writes, make: (at) => ({ k: Ik.Conv1dB, dx: dxs >= 0 ? at(dxs) : -1,
          dw: dws >= 0 ? at(dws) : -1, db: dbs >= 0 ? at(dbs) : -1, dy: at(dy), x: at(xs), w: at(ws),
          C, L, O, K, T, stride: a.stride, padding: a.padding, dilation: a.dilation }) });
      } else {
        const g = convWalk(values, n as GraphNode<typeof Op.Conv2d>);
        out.push({ reads: [dy, xs, ws], writes, make: (at) => ({ k: Ik.Conv2dB, dx: dxs >= 0 ? at(dxs) : -1,
          dw: dws >= 0 ? at(dws) : -1, db: dbs >= 0 ? at(dbs) : -1, dy: at(dy), x: at(xs), w: at(ws), ...g, bt }) });
      }
      return;
    }
    case Op.Reshape:
      return; // the gradient storage is shared with the input's
    case Op.Step: case Op.Sign:
      return; // zero derivative almost everywhere
    case Op.Binary: {
      const { fn } = (n as GraphNode<typeof Op.Binary>).attrs;
      if (!binaryIsDifferentiable(fn)) return;
      const g = broadcastGeometry(fullDims(yv), n.inputs.map((i) => fullDims(values[i]!)));
      const ins = n.inputs.map(S);
      for (let side = 0; side < 2; side++) {
        const d = gradIn(side);
        if (d < 0) continue;
        out.push({ reads: [dy, ...ins], writes: [d], make: (at) => ({ k: Ik.BinaryB, fn, side, dx: at(d), dy: at(dy), x0: at(ins[0]!), x1: at(ins[1]!),
          os0: g.outerStride[0]!, os1: g.outerStride[1]!, st0: g.strides[0]!, st1: g.strides[1]!,
          per: g.per, rank: g.rank, shape: g.shape, idx: new Int32Array(g.rank), bt }) });
      }
      return;
    }
    case Op.Where: {
      const g = broadcastGeometry(fullDims(yv), n.inputs.map((i) => fullDims(values[i]!)));
      const cs = S(n.inputs[0]!);
      for (let side = 0; side < 2; side++) {
        const d = gradIn(side + 1);
        if (d < 0) continue;
        out.push({ reads: [dy, cs], writes: [d], make: (at) => ({ k: Ik.WhereB, side, dx: at(d), dy: at(dy), c: at(cs),
          osc: g.outerStride[0]!, osx: g.outerStride[side + 1]!, stc: g.strides[0]!, stx: g.strides[side + 1]!,
          per: g.per, rank: g.rank, shape: g.shape, idx: new Int32Array(g.rank), bt }) });
      }
      return;
    }
    case Op.MatMul: {
      const a = (n as GraphNode<typeof Op.MatMul>).attrs;
      const das = gradIn(0), dbs = gradIn(1);
      if (das < 0 && dbs < 0) return;
      const g = matmulGeometry(n.name, fullDims(xv), fullDims(values[n.inputs[1]!]!), a.transA, a.transB);
      const as = S(n.inputs[0]!), bs = S(n.inputs[1]!);
      const alpha = Float64Array.of(a.alpha);
      out.push({ reads: [dy, as, bs], writes: [das, dbs].filter((v) => v >= 0), make: (at) => ({ k: Ik.MatMulB,
        da: das >= 0 ? at(das) : -1, db: dbs >= 0 ? at(dbs) : -1, dy: at(dy), a: at(as), b: at(bs), alpha, bt,
        osA: g.osA, osB: g.osB, osY: g.osY, P: g.P, offA: g.offA, offB: g.offB, M: g.M, K: g.K, N: g.N,
        sAm: g.sAm, sAk: g.sAk, sBk: g.sBk, sBn: g.sBn }) });
      return;
    }
    case Op.Concat: {
      const ax = perSampleAxis(yv, (n as GraphNode<typeof Op.Concat>).attrs.axis);
      const rows = sizeOf(yv.dims.slice(0, ax)), inner = sizeOf(yv.dims.slice(ax + 1));
      const yRow = yv.dims[ax]! * inner;
      let off = 0;
      n.inputs.forEach((i, j) => {
        const chunk = values[i]!.dims[ax]! * inner, o = off;
        off += chunk;
        const d = gradIn(j);
        if (d < 0) return;
        out.push({ reads: [dy], writes: [d], make: (at) => ({ k: Ik.ConcatB, x: at(d), y: at(dy), rows, chunk, yRow, off: o, bt }) });
      });
      return;
    }
    case Op.Gather: {
      const d = gradIn(0);
      if (d < 0) return;
      const g = gatherWalk(values, n);
      const is = S(n.inputs[1]!);
      out.push({ reads: [dy, is], writes: [d], make: (at) => ({ k: Ik.GatherB, x: at(d), y: at(dy), ind: at(is), ...g, bt }) });
      return;
    }
    case Op.NllLoss: {
      const d = gradIn(0);
      if (d < 0) return;
      const g = nllWalk(values, n as GraphNode<typeof Op.NllLoss>);
      const ts = S(n.inputs[1]!), ws = n.inputs.length > 2 ? S(n.inputs[2]!) : -1;
      out.push({ reads: ws >= 0 ? [dy, ts, ws] : [dy, ts], writes: [d], make: (at) => ({ k: Ik.NllB, logp: at(d), y: at(dy), target: at(ts),
        w: ws >= 0 ? at(ws) : -1, ...g, bt }) });
      return;
    }
    case Op.ArgMax: case Op.Quantize: case Op.Dequantize: case Op.DynQuantize: case Op.QMatMul:
      return; // integer results: no gradient
    case Op.Int8Quantize: case Op.Int8Dequantize: case Op.Int8Linear:
      return; // an int8 model runs inference only
    case Op.FakeQuant: {
      const d = gradIn(0);
      if (d < 0) return;
      const a = (n as GraphNode<typeof Op.FakeQuant>).attrs;
      const g = fakeQuantWalk(xv, a.axis);
      const xs = S(x), st = S(n.inputs[1]!), ctl = S(n.inputs[2]!);
      out.push({ reads: [dy, xs, st, ctl], writes: [d], make: (at) => ({ k: Ik.FakeQuantB, dx: at(d), dy: at(dy), x: at(xs), st: at(st), ctl: at(ctl),
        ...g, qmin: a.scheme.qmin, qmax: a.scheme.qmax, mode: a.mode, freezeAt: a.freezeObserverAt, fqFrom: a.fakeQuantFrom, bt }) });
      return;
    }
    case Op.LearnableFakeQuant: {
      const a = (n as GraphNode<typeof Op.LearnableFakeQuant>).attrs;
      const d = gradIn(0);
      // NOTE: parameter gradients live in the grads block, zeroed by zeroGrad (they accumulate)
      const [, , ctlV, scV, zpV] = n.inputs as [number, number, number, number, number];
      const dsc = needsGrad[scV] ? G(scV) : -1, dzp = needsGrad[zpV] ? G(zpV) : -1;
      if (d < 0 && dsc < 0 && dzp < 0) return;
      const g = fakeQuantWalk(xv, a.axis);
      const xs = S(x), sc = S(scV), zp = S(zpV), ctl = S(ctlV);
      const p = lsqParams(a), gf = new Float64Array(1);
      out.push({ reads: [dy, xs, sc, zp, ctl], writes: [d, dsc, dzp].filter((v) => v >= 0), make: (at) => ({ k: Ik.LsqB,
        dx: d >= 0 ? at(d) : -1, dsc: dsc >= 0 ? at(dsc) : -1, dzp: dzp >= 0 ? at(dzp) : -1, dy: at(dy), x: at(xs), sc: at(sc), zp: at(zp),
        ctl: at(ctl), ...g, qmin: a.scheme.qmin, qmax: a.scheme.qmax, perTensor: a.axis < 0, p, gf,
        freezeAt: a.freezeObserverAt, fqFrom: a.fakeQuantFrom, bt }) });
      return;
    }
    default:
      break;
  }
  if (dxs < 0) return;
  zeroThenWrite(dxs, out);
  switch (n.op) {
    case Op.Relu: case Op.Sigmoid: case Op.Tanh: {
      const k = n.op === Op.Relu ? Ik.ReluB : n.op === Op.Sigmoid ? Ik.SigmoidB : Ik.TanhB;
      const ys = S(y);
      out.push({ reads: [dy, ys], writes: [dxs], make: (at) => ({ k, dx: at(dxs), dy: at(dy), s: at(ys), n: per, p: NO_PARAMS, bt }) });
      return;
    }
    case Op.LeakyRelu: {
      const s = (n as GraphNode<typeof Op.LeakyRelu>).attrs.negativeSlope;
      const xs = S(x);
      out.push({ reads: [dy, xs], writes: [dxs], make: (at) => ({ k: Ik.LeakyReluB, dx: at(dxs), dy: at(dy), s: at(xs), n: per, p: Float64Array.of(s), bt }) });
      return;
    }
    case Op.Softplus: {
      const { beta, threshold } = (n as GraphNode<typeof Op.Softplus>).attrs;
      const xs = S(x);
      out.push({ reads: [dy, xs], writes: [dxs], make: (at) => ({ k: Ik.SoftplusB, dx: at(dxs), dy: at(dy), s: at(xs), n: per, p: Float64Array.of(beta, threshold), bt }) });
      return;
    }
    case Op.Softmax: case Op.LogSoftmax: {
      const { outer, C, inner } = axisSplit(xv.dims, (n as GraphNode<typeof Op.Softmax>).attrs.axis);
      const k = n.op === Op.Softmax ? Ik.SoftmaxB : Ik.LogSoftmaxB;
      const ys = S(y);
      out.push({ reads: [dy, ys], writes: [dxs], make: (at) => ({ k, dx: at(dxs), dy: at(dy), y: at(ys), outer, C, inner, bt }) });
      return;
    }
    case Op.Math: {
      const { fn, p0, p1 } = (n as GraphNode<typeof Op.Math>).attrs;
      const xs = S(x);
      const p = Float64Array.of(p0, p1);
      out.push({ reads: [dy, xs], writes: [dxs], make: (at) => ({ k: Ik.MathB, fn, dx: at(dxs), dy: at(dy), x: at(xs), n: per, p, bt }) });
      return;
    }
    case Op.Transpose: {
      const t = transposeWalk(xv, (n as GraphNode<typeof Op.Transpose>).attrs.perm);
      out.push({ reads: [dy], writes: [dxs], make: (at) => ({ k: Ik.TransposeB, x: at(dxs), y: at(dy), per, rank: t.shape.length,
        shape: t.shape, st: t.strides, idx: new Int32Array(t.shape.length), bt }) });
      return;
    }
    case Op.Reduce: {
      const r = reduceWalk(xv, (n as GraphNode<typeof Op.Reduce>).attrs);
      out.push({ reads: [dy], writes: [dxs], make: (at) => ({ k: Ik.ReduceB, x: at(dxs), y: at(dy), ...r, idx: new Int32Array(r.rank), bt }) });
      return;
    }
    case Op.Cast: case Op.Copy:
      out.push({ reads: [dy], writes: [dxs], make: (at) => ({ k: Ik.CopyB, x: at(dxs), y: at(dy), n: per, bt }) });
      return;
    default:
      return;
  }
}

/** A full-dims axis as an axis of the stored dims (per-sample dims when batched). */
function perSampleAxis(v: Value, axis: number): number {
  return v.batched ? axis - 1 : axis;
}

function transposeWalk(xv: Value, perm: readonly number[]): { shape: Int32Array; strides: Int32Array } {
  const p = xv.batched ? perm.slice(1).map((q) => q - 1) : perm;
  return transposeGeometry(xv.dims, p);
}

function gatherWalk(values: readonly Value[], n: GraphNode): { rows: number; xRow: number; indRow: number; nInd: number; D: number; inner: number } {
  const dv = values[n.inputs[0]!]!, iv = values[n.inputs[1]!]!;
  const axis = (n as GraphNode<typeof Op.Gather>).attrs.axis;
  const nInd = sizeOf(iv.dims);
  if (!dv.batched && iv.batched) {
    return { rows: 1, xRow: 0, indRow: nInd, nInd, D: dv.dims[0]!, inner: sizeOf(dv.dims.slice(1)) };
  }
  const ax = perSampleAxis(dv, axis);
  const D = dv.dims[ax]!, inner = sizeOf(dv.dims.slice(ax + 1));
  return { rows: sizeOf(dv.dims.slice(0, ax)), xRow: D * inner, indRow: 0, nInd, D, inner };
}

function reduceWalk(xv: Value, a: ReduceAttrs): { perIn: number; perOut: number; rank: number; shape: Int32Array; ost: Int32Array; mean: boolean; count: number } {
  const axes = a.axes.map((q) => perSampleAxis(xv, q));
  const g = reduceGeometry(xv.dims, axes);
  return { perIn: sizeOf(xv.dims), perOut: g.perOut, rank: g.shape.length, shape: g.shape, ost: g.ost,
    mean: a.fn === ReduceFn.Mean, count: g.count };
}

function convWalk(values: readonly Value[], n: GraphNode<typeof Op.Conv2d>): Conv2dGeo {
  const xv = values[n.inputs[0]!]!, wv = values[n.inputs[1]!]!, yv = values[n.outputs[0]!]!;
  const a = n.attrs;
  const img = xv.batched ? xv.dims : xv.dims.slice(1);
  const oimg = yv.batched ? yv.dims : yv.dims.slice(1);
  const N = xv.batched ? 1 : xv.dims[0]!;
  const twoD = img.length === 3;
  return {
    N, C: img[0]!, H: twoD ? img[1]! : 1, W: img[img.length - 1]!, O: wv.dims[0]!,
    KH: twoD ? wv.dims[2]! : 1, KW: wv.dims[wv.dims.length - 1]!, OH: twoD ? oimg[1]! : 1, OW: oimg[oimg.length - 1]!,
    sh: a.strides[0], sw: a.strides[1], pt: a.pads[0], pl: a.pads[1], dilH: a.dilations[0], dilW: a.dilations[1], G: a.group,
  };
}

function nllWalk(values: readonly Value[], n: GraphNode<typeof Op.NllLoss>): { N: number; C: number; D: number; reduction: number; hasIgnore: boolean; ignore: number } {
  const lv = values[n.inputs[0]!]!;
  const full = lv.batched ? [1, ...lv.dims] : lv.dims;
  const a = n.attrs;
  return { N: full[0]!, C: full[1]!, D: sizeOf(full.slice(2)),
    reduction: a.reduction === 'none' ? NllReduction.None : a.reduction === 'sum' ? NllReduction.Sum : NllReduction.Mean,
    hasIgnore: a.ignoreIndex !== null, ignore: a.ignoreIndex ?? 0 };
}

function quantWalk(xv: Value, sv: Value, a: QuantAttrs): { rows: number; D: number; inner: number; mode: number; bs: number } {
  const per = sizeOf(xv.dims);
  if (sizeOf(sv.dims) === 1 && a.blockSize === 0) return { rows: 1, D: per, inner: 1, mode: 0, bs: 0 };
  const ax = perSampleAxis(xv, a.axis);
  return { rows: sizeOf(xv.dims.slice(0, ax)), D: xv.dims[ax]!, inner: sizeOf(xv.dims.slice(ax + 1)),
    mode: a.blockSize > 0 ? 2 : 1, bs: a.blockSize };
}

/** (outer per sample, C, inner) of a fake-quant site: per tensor (axis < 0) the whole sample is
 * one channel; else the channel axis over the full dims (never the batch axis of a batched value) */
function fakeQuantWalk(xv: Value, axis: number): { outer: number; C: number; inner: number } {
  if (axis < 0) return { outer: 1, C: 1, inner: sizeOf(xv.dims) };
  return channelView(xv.dims, xv.batched ? axis - 1 : axis);
}

function lsqParams(a: LearnableFakeQuantAttrs | FakeQuantAttrs): Float64Array {
  return Float64Array.of(a.averaging, a.scheme.eps, a.scheme.qmax, 'gradScaling' in a && a.gradScaling ? 1 : 0);
}

/** (outer per sample, C, inner) around a per-sample axis */
function axisSplit(dims: readonly number[], axis: number): { outer: number; C: number; inner: number } {
  return { outer: sizeOf(dims.slice(0, axis)), C: dims[axis]!, inner: sizeOf(dims.slice(axis + 1)) };
}

/** Greedy by size: largest first, at the lowest offset not overlapping a placed buffer whose
 * lifetime intersects. Returns the pool's size in bytes. */
function placeGreedy(pool: Storage[], bytesOf: (s: Storage) => number): number {
  const order = [...pool].sort((p, q) => bytesOf(q) - bytesOf(p) || p.first - q.first);
  const placed: Storage[] = [];
  let top = 0;
  for (const s of order) {
    const size = bytesOf(s);
    const clash = placed.filter((p) => p.first <= s.last && s.first <= p.last)
      .sort((p, q) => p.offset - q.offset);
    let off = 0;
    for (const p of clash) {
      if (off + size <= p.offset) break;
      off = Math.max(off, alignUp(p.offset + bytesOf(p), ARENA_ALIGN));
    }
    s.offset = off;
    placed.push(s);
    top = Math.max(top, off + size);
  }
  return top;
}

function peakLive(pool: readonly Storage[], bytesOf: (s: Storage) => number, steps: number): number {
  let peak = 0;
  for (let t = 0; t < Math.max(1, steps); t++) {
    let live = 0;
    for (const s of pool) if (s.first <= t && t <= s.last) live += bytesOf(s);
    if (live > peak) peak = live;
  }
  return peak;
}
