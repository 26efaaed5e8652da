// The QAT recipe: where fake quantization goes in a model, as PyTorch's eager-mode QAT does it
// (QuantStub -> fused Linear/Conv (+ReLU) modules -> DeQuantStub, qconfig = weights per channel
// int8 symmetric, activations per tensor uint8 affine), plus the run-time controls (observers
// on/off, fake-quant on/off, the step the schedule counts) and post-training calibration.
// It rewrites a Graph (built in edgenn or imported from ONNX) into a new Graph; compile and train
// it with the usual trainer. Not here: the kernels (fake-quant.ts, observers.ts, qparams.ts), the
// graph op (runtime/ops/fake-quant-op.ts), conversion to int8 (convert.ts).
//
// Rules, for every Dense / Conv1d / Conv2d node:
//   - its weight (a parameter or constant) is fake-quantized: `<layer>.weight_fake_quant`, per
//     output channel (axis 0) or per tensor;
//   - its output is fake-quantized: `<layer>.activation_post_process`; when the output's only
//     reader is a ReLU (and fuseRelu), after the ReLU instead (PyTorch's LinearReLU / ConvReLU);
//   - its input, unless already on a quantization grid (the output of a fake-quant site, seen
//     through views and ReLUs, which keep the grid), is fake-quantized: `<layer>.input_fake_quant`
//     (PyTorch's QuantStub for the first layer).
// <layer> is the weight's name without `.weight` (a PyTorch state_dict prefix) or the node name.
// NOTE: as in PyTorch, an observer that is on also observes evaluation batches (the trainer's
// validation pass included); freeze it (freezeObserverAt, setQatMode) to keep eval out of it.
import { EdgennError } from '../errors.js';
import { GraphBuilder, QAT_CONTROL, compactGraph, type FakeQuantOptions, type ValueId } from '../graph/builder.js';
import { Op, type Graph, type GraphNode } from '../graph/graph.js';
import type { Model } from '../model.js';
import { quantScheme, type QParamsRule, type QScheme } from './qparams.js';
import type { RoundingMode } from './fake-quant.js';
import { QAT_CTL_STEP, QAT_CTL_OBSERVE, QAT_CTL_FAKE_QUANT } from '../ops/fake-quant-op.js';

/** The grid of one kind of tensor. */
export interface QatTensorConfig {
  /** 2..8 (default 8) */
  readonly bits?: number;
  /** int8-style codes (default: true for weights, false for activations) */
  readonly signed?: boolean;
  /** default: symmetric weights, affine activations */
  readonly symmetric?: boolean;
  /** int8 -127..127 (signed weights only) */
  readonly narrow?: boolean;
  /** halve the range (PyTorch's reduce_range: fbgemm's activations 0..127) */
  readonly reduceRange?: boolean;
  /** weights only: one scale per output channel (default true) */
  readonly perChannel?: boolean;
}

export interface QatConfig {
  readonly weights?: QatTensorConfig;
  readonly activations?: QatTensorConfig;
  /** 'moving-average' (default, PyTorch's QAT observers) or 'minmax' (typical for calibration) */
  readonly observer?: 'minmax' | 'moving-average';
  /** moving-average constant (default 0.01) */
  readonly averagingConstant?: number;
  /** freeze every observer from this training step on (default: never) */
  readonly freezeObserverAt?: number;
  /** fake-quantize from this training step on (default 0) */
  readonly fakeQuantFrom?: number;
  /** 'fused' (default: PyTorch's default QAT modules, C++ ChooseQuantizationParams) or 'observer' */
  readonly rule?: QParamsRule;
  /** rounding of x / scale: 'torch' (default) or 'onnx' */
  readonly mode?: RoundingMode;
  /** fake-quantize after the ReLU that follows a layer (default true) */
  readonly fuseRelu?: boolean;
  /** LSQ: learnable scales and zero points (default false) */
  readonly learnable?: boolean;
}

/** The schemes a config gives weights and activations. */
export function qatSchemes(c: QatConfig = {}): { weight: QScheme; activation: QScheme } {
  const w = c.weights ?? {}, x = c.activations ?? {};
  const weight = quantScheme({ bits: w.bits, signed: w.signed ?? true, symmetric: w.symmetric ?? true, narrow: w.narrow, reduceRange: w.reduceRange });
  const activation = quantScheme({ bits: x.bits, signed: x.signed ?? false, symmetric: x.symmetric ?? false, narrow: x.narrow, reduceRange: x.reduceRange });
  return { weight, activation };
}

const CONFIG_KEYS = ['weights', 'activations', 'observer', 'averagingConstant', 'freezeObserverAt', 'fakeQuantFrom', 'rule', 'mode', 'fuseRelu', 'learnable'];
const TENSOR_KEYS = ['bits', 'signed', 'symmetric', 'narrow', 'reduceRange', 'perChannel'];

/** Checks a config read from JSON (e.g. `--qat-config FILE`): unknown keys and wrong types are
 *  refused with the key named. */
export function parseQatConfig(raw: unknown, file?: string): QatConfig {
  const at = file !== undefined ? { file } : {};
  const obj = (v: unknown, where: string, keys: readonly string[]): Record<string, unknown> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new EdgennError('DATA', `${where} must be a JSON object`, at);
    for (const k of Object.keys(v)) {
      if (!keys.includes(k)) throw new EdgennError('DATA', `unknown QAT config key ${where === 'QAT config' ? '' : `${where}.`}${k}`, { ...at, expected: keys.join(', ') });
    }
    return v as Record<string, unknown>;
  };
  const kind = (o: Record<string, unknown>, k: string, t: 'number' | 'boolean' | 'string', where: string): void => {
    if (o[k] !== undefined && typeof o[k] !== t) throw new EdgennError('DATA', `QAT config ${where}${k} must be a ${t}`, { ...at, actual: JSON.stringify(o[k]) });
  };
  const top = obj(raw, 'QAT config', CONFIG_KEYS);
  for (const side of ['weights', 'activations']) {
    if (top[side] === undefined) continue;
    const t = obj(top[side], side, TENSOR_KEYS);
    kind(t, 'bits', 'number', `${side}.`);
    for (const k of ['signed', 'symmetric', 'narrow', 'reduceRange', 'perChannel']) kind(t, k, 'boolean', `${side}.`);
  }
  for (const k of ['averagingConstant', 'freezeObserverAt', 'fakeQuantFrom']) kind(top, k, 'number', '');
  for (const k of ['fuseRelu', 'learnable']) kind(top, k, 'boolean', '');
  for (const [k, ok] of [['observer', ['minmax', 'moving-average']], ['rule', ['observer', 'fused']], ['mode', ['torch', 'onnx']]] as const) {
    if (top[k] !== undefined && !(ok as readonly unknown[]).includes(top[k])) {
      throw new EdgennError('DATA', `QAT config ${k} must be one of ${ok.join(', ')}`, { ...at, actual: JSON.stringify(top[k]) });
    }
  }
  const c = top as QatConfig;
  qatSchemes(c); // range checks
  return c;
}

const LINEAR_OPS: ReadonlySet<number> = new Set([Op.Dense, Op.Conv1d, Op.Conv2d]);
const FQ_OPS: ReadonlySet<number> = new Set([Op.FakeQuant, Op.LearnableFakeQuant]);

/** The name prefix of a layer: its weight's name without `.weight`, or the node's name. */
export function layerName(g: Graph, n: GraphNode): string {
  const w = g.values[n.inputs[1]!]!;
  return w.name.endsWith('.weight') ? w.name.slice(0, -'.weight'.length) : n.name;
}

/**
 * A new graph with fake quantization on the weights, inputs and outputs of every dense / conv
 * layer (see the header). Throws EdgennError('GRAPH') when the graph already has fake-quant
 * sites, or ('UNSUPPORTED') when it has no layer to quantize.
 */
export function prepareQat(graph: Graph, config: QatConfig = {}): Graph {
  if (graph.nodes.some((n) => FQ_OPS.has(n.op))) {
    throw new EdgennError('GRAPH', 'the graph already has fake-quant sites (prepareQat was applied)');
  }
  const layers = graph.nodes.filter((n) => LINEAR_OPS.has(n.op));
  if (layers.length === 0) throw new EdgennError('UNSUPPORTED', 'no dense or conv layer to quantize in this graph');
  const { weight, activation } = qatSchemes(config);
  const common = {
    observer: config.observer ?? 'moving-average', averagingConstant: config.averagingConstant, rule: config.rule ?? 'fused',
    mode: config.mode ?? 'torch', freezeObserverAt: config.freezeObserverAt, fakeQuantFrom: config.fakeQuantFrom,
  } as const;
  // LSQ sites observe on the first step only (the observer initialises the learnable qparams,
  // PyTorch's static observation), then learn them, unless the config says otherwise
  const common2 = config.learnable === true && config.freezeObserverAt === undefined ? { ...common, freezeObserverAt: 1 } : common;
  const perChannel = config.weights?.perChannel ?? true;
  const fuseRelu = config.fuseRelu ?? true;
  const site = (b: GraphBuilder, x: ValueId, o: FakeQuantOptions, name: string): ValueId =>
    config.learnable === true ? b.learnableFakeQuant(x, { ...o, ...common2, scheme: o.scheme, axis: o.axis }, name) : b.fakeQuant(x, o, name);

  const readers = new Map<number, GraphNode[]>();
  for (const n of graph.nodes) for (const i of n.inputs) readers.set(i, [...(readers.get(i) ?? []), n]);
  const isOutput = new Set(graph.outputs);
  const soleReader = (v: number): GraphNode | undefined => {
    const r = readers.get(v) ?? [];
    return r.length === 1 && !isOutput.has(v) ? r[0] : undefined;
  };

  const b = GraphBuilder.continueFrom(graph);
  /** old value id -> the value to read instead (a fake-quantized version) */
  const swap = new Map<number, number>();
  /** values on a quantization grid (outputs of sites, and views / ReLUs of them) */
  const onGrid = new Set<number>();
  const weightSites = new Map<number, number>();
  const inputSites = new Map<number, number>();
  /** value id after which an output site goes (the layer output, or the ReLU after it) */
  const outputSiteAfter = new Map<number, string>();
  for (const n of layers) {
    const y = n.outputs[0]!;
    const r = soleReader(y);
    const after = fuseRelu && r !== undefined && r.op === Op.Relu ? r.outputs[0]! : y;
    outputSiteAfter.set(after, layerName(graph, n));
  }
  const read = (v: number): number => swap.get(v) ?? v;

  for (const n of graph.nodes) {
    const ins = n.inputs.map(read);
    if (LINEAR_OPS.has(n.op)) {
      const layer = layerName(graph, n);
      const x = ins[0]!;
      if (!onGrid.has(x)) {
        // other layers reading the same input share its site
        let q = inputSites.get(x);
        if (q === undefined) {
          q = site(b, x, { ...common, scheme: activation }, `${layer}.input_fake_quant`);
          inputSites.set(x, q);
          onGrid.add(q);
        }
        ins[0] = q;
      }
      const w = n.inputs[1]!;
      let wq = weightSites.get(w);
      if (wq === undefined) {
        wq = site(b, w, { ...common, scheme: weight, axis: perChannel ? 0 : -1 }, `${layer}.weight_fake_quant`);
        weightSites.set(w, wq);
      }
      ins[1] = wq;
    }
    b.appendNode(n, ins);
    const y = n.outputs[0]!;
    if ((n.op === Op.Reshape || n.op === Op.Relu) && onGrid.has(ins[0]!)) onGrid.add(y);
    const layer = outputSiteAfter.get(y);
    if (layer !== undefined) {
      const q = site(b, y, { ...common, scheme: activation }, `${layer}.activation_post_process`);
      swap.set(y, q);
      onGrid.add(q);
    }
  }
  graph.outputs.forEach((o, i) => { const q = swap.get(o); if (q !== undefined) b.replaceOutput(i, q); });
  return compactGraph(b.build());
}

// ---------------------------------------------------------------- run-time controls

function controlAt(model: Model): number {
  const s = model.plan.constants.find((c) => c.name === QAT_CONTROL);
  if (s === undefined) throw new EdgennError('STATE', 'the model has no fake-quant sites (use prepareQat before compile)');
  return s.at;
}

/** Turns observers / fake quantization of every site on or off, or sets the step the schedule
 *  (freezeObserverAt, fakeQuantFrom) counts. Takes effect on the next forward; no replanning. */
export function setQatMode(model: Model, m: { readonly observe?: boolean; readonly fakeQuant?: boolean; readonly step?: number }): void {
  const at = controlAt(model), ia = model.plan.arena.i32;
  if (m.observe !== undefined) ia[at + QAT_CTL_OBSERVE] = m.observe ? 1 : 0;
  if (m.fakeQuant !== undefined) ia[at + QAT_CTL_FAKE_QUANT] = m.fakeQuant ? 1 : 0;
  if (m.step !== undefined) {
    if (!Number.isInteger(m.step) || m.step < 0) throw new EdgennError('ARG', 'QAT step must be an integer >= 0', { actual: String(m.step) });
    ia[at + QAT_CTL_STEP] = m.step;
  }
}

/** The QAT control block: steps counted (backward passes), observers on, fake-quant on. */
export function qatMode(model: Model): { observe: boolean; fakeQuant: boolean; step: number } {
  const at = controlAt(model), ia = model.plan.arena.i32;
  return { observe: ia[at + QAT_CTL_OBSERVE] !== 0, fakeQuant: ia[at + QAT_CTL_FAKE_QUANT] !== 0, step: ia[at + QAT_CTL_STEP]! };
}

export interface QatSite {
  readonly name: string;
  readonly node: GraphNode;
  readonly learnable: boolean;
  readonly scheme: QScheme;
  /** channel axis over the full dims, -1 per tensor */
  readonly axis: number;
  readonly channels: number;
  /** live views into the arena */
  readonly runningMin: Float32Array;
  readonly runningMax: Float32Array;
  /** the qparams the site fake-quantizes with (LSQ: its trainable parameters) */
  readonly scale: Float32Array;
  readonly zeroPoint: Float32Array;
}

/** Every fake-quant site of a compiled model with live views of its observer state and qparams. */
export function qatSites(model: Model): QatSite[] {
  const slot = (name: string): Float32Array => model.param(name);
  return model.graph.nodes.filter((n) => FQ_OPS.has(n.op)).map((n) => {
    const a = (n as GraphNode<typeof Op.FakeQuant>).attrs;
    const st = slot(model.graph.values[n.inputs[1]!]!.name);
    const C = st.length / 4;
    const learnable = n.op === Op.LearnableFakeQuant;
    return {
      name: n.name, node: n, learnable, scheme: a.scheme, axis: a.axis, channels: C,
      runningMin: st.subarray(0, C), runningMax: st.subarray(C, 2 * C),
      scale: learnable ? slot(model.graph.values[n.inputs[3]!]!.name) : st.subarray(2 * C, 3 * C),
      zeroPoint: learnable ? slot(model.graph.values[n.inputs[4]!]!.name) : st.subarray(3 * C, 4 * C),
    };
  });
}

/**
 * Post-training calibration: runs the observers (fake quantization off, as PyTorch's
 * prepare/calibrate) over `x` ([N, ...input dims], N >= 1) in batches of the model's maxBatch,
 * then freezes them (observe off) and turns fake quantization on, ready for `convert`.
 */
export function calibrate(model: Model, x: Float32Array): void {
  const per = model.plan.inputs[0]!.floats;
  const n = x.length / per;
  if (!Number.isInteger(n) || n < 1) {
    throw new EdgennError('SHAPE', 'calibration data does not hold whole samples', { tensor: model.plan.inputs[0]!.name, expected: `N * ${per} values`, actual: String(x.length) });
  }
  setQatMode(model, { observe: true, fakeQuant: false });
  const v = model.inputView(0);
  for (let from = 0; from < n; from += model.maxBatch) {
    const b = Math.min(model.maxBatch, n - from);
    v.set(x.subarray(from * per, (from + b) * per));
    model.forward(b);
  }
  setQatMode(model, { observe: false, fakeQuant: true });
}

/** A copy of a compiled model's graph whose parameters start from the model's current values
 *  (e.g. a float model trained first, then prepared for QAT or calibration). */
export function trainedGraph(model: Model): Graph {
  const names = new Set(model.paramNames());
  const values = model.graph.values.map((v) => (v.role === 'param' && names.has(v.name)
    ? { ...v, init: Float32Array.from(model.param(v.name)) } : { ...v }));
  return { ...model.graph, values };
}
