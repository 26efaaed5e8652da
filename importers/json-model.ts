// The JSON model format (documented in docs/model-format.md): a sequential model as plain JSON,
//   {"format": "edgenn-model", "version": 1, "input": {"name": "input", "dims": [2]},
//    "layers": [{"type": "dense", "out": 4, "weight": [...], "biasData": [...]}, ...], "seed": 0}
// where each layer is runtime/graph/sequential.ts's LayerSpec. Weights are optional (absent →
// PyTorch-style init from `seed`); `weight` is flat row-major in PyTorch's layout ([out, in] for
// dense, [out, in_channels, kernel] for conv1d).
//
// What it is: a pure parser with thorough validation (unknown keys, wrong types, weight lengths,
// layer shapes — every message names the layer index and key, e.g. `layers[2].weight`), the
// spec → Graph step, and the way back (modelToJson writes a compiled model's trained weights into
// the spec; stringifyJsonModel prints it with float32 values in their shortest exact decimal, so
// `train --out m.json` then `run m.json` reproduces the weights bit for bit).
// What it is not: no file I/O (tools/cli/load-model.ts reads and writes files), no graphs other
// than sequential ones (ONNX covers those).
import { EdgennError } from '../runtime/errors.js';
import type { Graph } from '../runtime/graph/graph.js';
import { LAYER_TYPES, sequential, type LayerSpec, type LayerType } from '../runtime/graph/sequential.js';
import { conv1dOutLength } from '../runtime/ops/conv1d.js';
import type { Model } from '../runtime/model.js';

export const JSON_MODEL_FORMAT = 'edgenn-model';
export const JSON_MODEL_VERSION = 1;

export interface JsonModelSpec {
  readonly format: typeof JSON_MODEL_FORMAT;
  readonly version: typeof JSON_MODEL_VERSION;
  /** the graph input: name and per-sample dims (the batch dimension is implicit) */
  readonly input: { readonly name: string; readonly dims: readonly number[] };
  readonly layers: readonly LayerSpec[];
  /** seed of the default initialisation of parameters without explicit data (uint32) */
  readonly seed: number;
  /** free text, kept as is */
  readonly description?: string;
}

const TOP_KEYS = ['format', 'version', 'input', 'layers', 'seed', 'description'] as const;
const INPUT_KEYS = ['name', 'dims'] as const;
const LAYER_KEYS: Readonly<Record<LayerType, readonly string[]>> = {
  dense: ['type', 'out', 'bias', 'weight', 'biasData'],
  conv1d: ['type', 'out', 'kernel', 'stride', 'padding', 'dilation', 'bias', 'weight', 'biasData'],
  relu: ['type'], sigmoid: ['type'], tanh: ['type'], step: ['type'], sign: ['type'], flatten: ['type'],
  leaky_relu: ['type', 'negativeSlope'],
  softplus: ['type', 'beta', 'threshold'],
  softmax: ['type', 'axis'], log_softmax: ['type', 'axis'],
};

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array (length ${v.length})`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

type Obj = Readonly<Record<string, unknown>>;

class Checker {
  constructor(readonly file: string) {}

  fail(where: string, message: string, expected?: string, actual?: string): never {
    const ctx: { file: string; expected?: string; actual?: string } = { file: this.file };
    if (expected !== undefined) ctx.expected = expected;
    if (actual !== undefined) ctx.actual = actual;
    throw new EdgennError('DATA', `${where}: ${message}`, ctx);
  }

  object(where: string, v: unknown, keys: readonly string[]): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(where, 'expected an object', 'an object', describe(v));
    for (const k of Object.keys(v)) {
      if (!keys.includes(k)) this.fail(`${where}`, `unknown key ${JSON.stringify(k)}`, `keys among ${keys.join(', ')}`);
    }
    return v as Obj;
  }

  int(where: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      this.fail(where, 'bad value', `an integer >= ${min}${max < Number.MAX_SAFE_INTEGER ? ` and <= ${max}` : ''}`, describe(v));
    }
    return v;
  }

  num(where: string, v: unknown): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(where, 'bad value', 'a finite number', describe(v));
    return v;
  }

  bool(where: string, v: unknown): boolean {
    if (typeof v !== 'boolean') this.fail(where, 'bad value', 'true or false', describe(v));
    return v;
  }

  /** A flat array of exactly n finite float32-representable numbers. */
  floats(where: string, v: unknown, n: number, shape: string): number[] {
    if (!Array.isArray(v)) this.fail(where, 'expected a flat array of numbers', `${n} numbers (${shape}, row-major)`, describe(v));
    if (v.length !== n) this.fail(where, 'wrong number of values', `${n} numbers (${shape}, row-major)`, `${v.length}`);
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (typeof x !== 'number' || !Number.isFinite(x)) this.fail(`${where}[${i}]`, 'bad value', 'a finite number', describe(x));
      if (!Number.isFinite(Math.fround(x))) this.fail(`${where}[${i}]`, 'value overflows float32', '|x| < 3.4e38', String(x));
    }
    return v as number[];
  }
}

function optional<T>(o: Obj, k: string, f: (v: unknown) => T): T | undefined {
  return o[k] === undefined ? undefined : f(o[k]);
}

/** Validates a parsed JSON value as a model spec (and its layer shapes); throws EdgennError('DATA'|'DECODE'). */
export function validateJsonModel(v: unknown, file = '<model>'): JsonModelSpec {
  // NOTE: the explicit type lets `if (bad) c.fail(...)` (returns never) narrow types below it.
  const c: Checker = new Checker(file);
  const top = c.object('model', v, TOP_KEYS);
  if (top.format !== JSON_MODEL_FORMAT) c.fail('format', 'not an edgenn JSON model', JSON.stringify(JSON_MODEL_FORMAT), describe(top.format));
  if (top.version !== JSON_MODEL_VERSION) c.fail('version', 'unsupported version', String(JSON_MODEL_VERSION), describe(top.version));
  const inp = c.object('input', top.input, INPUT_KEYS);
  const name = inp.name ?? 'input';
  if (typeof name !== 'string' || name === '') c.fail('input.name', 'bad value', 'a non-empty string', describe(name));
  if (!Array.isArray(inp.dims) || inp.dims.length === 0) c.fail('input.dims', 'bad value', 'a non-empty array of positive integers (per-sample dims)', describe(inp.dims));
  const inDims = (inp.dims as unknown[]).map((d, i) => c.int(`input.dims[${i}]`, d, 1));
  const seed = top.seed === undefined ? 0 : c.int('seed', top.seed, 0, 0xffffffff);
  if (top.description !== undefined && typeof top.description !== 'string') c.fail('description', 'bad value', 'a string', describe(top.description));
  if (!Array.isArray(top.layers) || top.layers.length === 0) c.fail('layers', 'bad value', 'a non-empty array of layers', describe(top.layers));

  const layers: LayerSpec[] = [];
  let dims: readonly number[] = inDims;
  (top.layers as unknown[]).forEach((raw, i) => {
    const at = `layers[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) c.fail(at, 'expected an object', 'an object with a "type"', describe(raw));
    const type = (raw as Obj).type;
    if (typeof type !== 'string' || !(LAYER_TYPES as readonly string[]).includes(type)) {
      c.fail(`${at}.type`, 'unknown layer type', `one of ${LAYER_TYPES.join(', ')}`, describe(type));
    }
    const t = type as LayerType;
    const o = c.object(at, raw, LAYER_KEYS[t]);
    const r = checkLayer(c, at, t, o, dims);
    layers.push(r.layer);
    dims = r.dims;
  });
  const spec: JsonModelSpec = {
    format: JSON_MODEL_FORMAT, version: JSON_MODEL_VERSION, input: { name, dims: inDims }, layers, seed,
    ...(top.description !== undefined ? { description: top.description as string } : {}),
  };
  return spec;
}

function fmt(dims: readonly number[]): string {
  return `[B, ${dims.join(', ')}]`;
}

/** Checks one layer against the per-sample dims flowing into it; returns the spec and the dims out. */
function checkLayer(c: Checker, at: string, t: LayerType, o: Obj, dims: readonly number[]): { layer: LayerSpec; dims: readonly number[] } {
  switch (t) {
    case 'dense': {
      if (dims.length !== 1) c.fail(at, 'dense needs a [B, I] input; add a {"type": "flatten"} layer first', '[B, I]', fmt(dims));
      const out = c.int(`${at}.out`, o.out, 1);
      const I = dims[0]!;
      const bias = optional(o, 'bias', (v) => c.bool(`${at}.bias`, v)) ?? true;
      const weight = optional(o, 'weight', (v) => c.floats(`${at}.weight`, v, out * I, `[${out}, ${I}]`));
      if (!bias && o.biasData !== undefined) c.fail(`${at}.biasData`, 'given while "bias" is false');
      const biasData = optional(o, 'biasData', (v) => c.floats(`${at}.biasData`, v, out, `[${out}]`));
      const layer: LayerSpec = { type: 'dense', out, ...(o.bias !== undefined ? { bias } : {}),
        ...(weight !== undefined ? { weight } : {}), ...(biasData !== undefined ? { biasData } : {}) };
      return { layer, dims: [out] };
    }
    case 'conv1d': {
      if (dims.length !== 2) c.fail(at, 'conv1d needs a [B, C, L] input', '[B, C, L]', fmt(dims));
      const out = c.int(`${at}.out`, o.out, 1);
      const kernel = c.int(`${at}.kernel`, o.kernel, 1);
      const stride = optional(o, 'stride', (v) => c.int(`${at}.stride`, v, 1));
      const padding = optional(o, 'padding', (v) => c.int(`${at}.padding`, v, 0));
      const dilation = optional(o, 'dilation', (v) => c.int(`${at}.dilation`, v, 1));
      const [C, L] = [dims[0]!, dims[1]!];
      const T = conv1dOutLength(L, kernel, stride ?? 1, padding ?? 0, dilation ?? 1);
      if (T < 1) c.fail(at, 'conv1d input is shorter than the (dilated) kernel', `L + 2*padding >= ${(dilation ?? 1) * (kernel - 1) + 1}`, `L = ${L}, padding = ${padding ?? 0}`);
      const bias = optional(o, 'bias', (v) => c.bool(`${at}.bias`, v)) ?? true;
      const weight = optional(o, 'weight', (v) => c.floats(`${at}.weight`, v, out * C * kernel, `[${out}, ${C}, ${kernel}]`));
      if (!bias && o.biasData !== undefined) c.fail(`${at}.biasData`, 'given while "bias" is false');
      const biasData = optional(o, 'biasData', (v) => c.floats(`${at}.biasData`, v, out, `[${out}]`));
      const layer: LayerSpec = { type: 'conv1d', out, kernel,
        ...(stride !== undefined ? { stride } : {}), ...(padding !== undefined ? { padding } : {}),
        ...(dilation !== undefined ? { dilation } : {}), ...(o.bias !== undefined ? { bias } : {}),
        ...(weight !== undefined ? { weight } : {}), ...(biasData !== undefined ? { biasData } : {}) };
      return { layer, dims: [out, T] };
    }
    case 'flatten': {
      let n = 1;
      for (const d of dims) n *= d;
      return { layer: { type: 'flatten' }, dims: [n] };
    }
    case 'relu': case 'sigmoid': case 'tanh': case 'step': case 'sign':
      return { layer: { type: t }, dims };
    case 'leaky_relu': {
      const negativeSlope = optional(o, 'negativeSlope', (v) => c.num(`${at}.negativeSlope`, v));
      return { layer: { type: t, ...(negativeSlope !== undefined ? { negativeSlope } : {}) }, dims };
    }
    case 'softplus': {
      const beta = optional(o, 'beta', (v) => c.num(`${at}.beta`, v));
      if (beta !== undefined && !(beta > 0)) c.fail(`${at}.beta`, 'bad value', 'a number > 0', String(beta));
      const threshold = optional(o, 'threshold', (v) => c.num(`${at}.threshold`, v));
      return { layer: { type: t, ...(beta !== undefined ? { beta } : {}), ...(threshold !== undefined ? { threshold } : {}) }, dims };
    }
    case 'softmax': case 'log_softmax': {
      const axis = optional(o, 'axis', (v) => c.int(`${at}.axis`, v, -dims.length, dims.length - 1));
      return { layer: { type: t, ...(axis !== undefined ? { axis } : {}) }, dims };
    }
    default: {
      const never: never = t;
      return c.fail(at, `unknown layer type ${String(never)}`);
    }
  }
}

/** Parses the text of a JSON model file; throws EdgennError('DECODE') for bad JSON, 'DATA' otherwise. */
export function parseJsonModel(text: string, file = '<model>'): JsonModelSpec {
  let v: unknown;
  try {
    v = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    throw new EdgennError('DECODE', `not valid JSON: ${(e as Error).message}`, { file });
  }
  return validateJsonModel(v, file);
}

/** The spec's graph (a sequential model; parameter names `<i>.weight` / `<i>.bias`). */
export function jsonModelGraph(spec: JsonModelSpec, file = '<model>'): Graph {
  try {
    return sequential(spec.input.dims, spec.layers, { inputName: spec.input.name, seed: spec.seed });
  } catch (e) {
    // validateJsonModel checks shapes first; this only adds the file to a builder message.
    if (e instanceof EdgennError) throw new EdgennError(e.code, e.message, { file });
    throw e;
  }
}

/** A copy of spec with every parameter's current values in `model` (a model compiled from spec's graph). */
export function modelToJson(model: Model, spec: JsonModelSpec): JsonModelSpec {
  const layers = spec.layers.map((l, i): LayerSpec => {
    if (l.type !== 'dense' && l.type !== 'conv1d') return l;
    const weight = Array.from(model.param(`${i}.weight`));
    if (l.bias === false) return { ...l, weight };
    return { ...l, weight, biasData: Array.from(model.param(`${i}.bias`)) };
  });
  return { ...spec, layers };
}

/**
 * The shortest decimal that reads back (through Math.fround) as the same float32: 0.1f prints as
 * 0.1, not 0.10000000149011612. NOTE: 9 significant digits always suffice for float32.
 */
export function f32Shortest(v: number): number {
  if (!Number.isFinite(v) || v === 0) return v;
  const f = Math.fround(v);
  for (let p = 1; p <= 9; p++) {
    const s = Number(f.toPrecision(p));
    if (Math.fround(s) === f) return s;
  }
  return f;
}

// NOTE: JSON.stringify(-0) is "0"; "-0" keeps the sign bit (JSON.parse reads it back as -0).
function numbers(a: readonly number[]): string {
  return `[${a.map((x) => (Object.is(x, -0) ? '-0' : JSON.stringify(f32Shortest(x)))).join(', ')}]`;
}

/** Prints a spec: one layer per line, weights as float32-shortest numbers on one line. */
export function stringifyJsonModel(spec: JsonModelSpec): string {
  const layer = (l: LayerSpec): string => {
    const parts = Object.entries(l).map(([k, v]) => `${JSON.stringify(k)}: ${Array.isArray(v) ? numbers(v as number[]) : JSON.stringify(v)}`);
    return `{${parts.join(', ')}}`;
  };
  const lines = [
    '{',
    `  "format": ${JSON.stringify(spec.format)},`,
    `  "version": ${spec.version},`,
    ...(spec.description !== undefined ? [`  "description": ${JSON.stringify(spec.description)},`] : []),
    `  "input": {"name": ${JSON.stringify(spec.input.name)}, "dims": [${spec.input.dims.join(', ')}]},`,
    `  "seed": ${spec.seed},`,
    '  "layers": [',
    spec.layers.map((l) => `    ${layer(l)}`).join(',\n'),
    '  ]',
    '}',
  ];
  return lines.join('\n') + '\n';
}
