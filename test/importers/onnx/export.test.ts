// Export to ONNX, checked against onnxruntime (onnxruntime-node, the reference runtime):
//  - every reference .onnx model, imported, trained a few SGD steps where it has trainable
//    weights (so the exported weights are edgenn's, not the file's), exported at opset 13 and 17,
//    must give onnxruntime's outputs on random inputs of another batch size;
//  - sequential models with every layer type, trained a few steps, likewise;
//  - import -> export -> import is lossless (same ops, attributes, names, shapes and weights);
//  - the file says what the issue asks: producer edgenn, IR 7 / 8 for opset 13 / 17, a dynamic
//    'batch' first dim on batched inputs and outputs, Gemm / Conv with their attributes.
// Tolerance: |edgenn - ort| <= 1e-5 + 1e-5 |ort| (both float32; only summation order differs).
import { describe, it, expect } from 'vitest';
import * as ort from 'onnxruntime-node';
import { referenceOnnxCases, runImported } from './onnx-helpers.js';
import { importOnnx, type ImportedModel } from '../../../importers/onnx/import.js';
import { exportOnnx, exportOnnxBytes } from '../../../importers/onnx/export.js';
import { decodeModel } from '../../../importers/onnx/decode.js';
import { OnnxDataType, type OnnxTensor } from '../../../importers/onnx/model.js';
import { compile, type Model } from '../../../runtime/model.js';
import { sequential, type LayerSpec } from '../../../runtime/graph/sequential.js';
import { Rng } from '../../../runtime/random.js';
import { BATCH, type Graph } from '../../../runtime/graph/graph.js';
import { mismatch } from '../../helpers/reference.js';

const TOL = { abs: 1e-5, rel: 1e-5 };

function randomFeeds(im: ImportedModel, b: number, rng: Rng): OnnxTensor[] {
  return im.inputs.map((io) => {
    const dims = io.dims.map((d) => (d === BATCH ? b : d));
    const n = dims.reduce((p, q) => p * q, 1);
    if (io.elemType === OnnxDataType.FLOAT) return { name: io.name, dataType: io.elemType, dims, data: Float32Array.from({ length: n }, () => rng.normal()) };
    throw new Error(`test: no random feed for type ${io.elemType}`);
  });
}

async function ortRun(bytes: Uint8Array, feeds: readonly OnnxTensor[]): Promise<Map<string, Float32Array>> {
  const s = await ort.InferenceSession.create(bytes);
  const input: Record<string, ort.Tensor> = {};
  for (const f of feeds) input[f.name] = new ort.Tensor('float32', f.data as Float32Array, [...f.dims]);
  const r = await s.run(input);
  const out = new Map<string, Float32Array>();
  for (const k of Object.keys(r)) out.set(k, r[k]!.data as Float32Array);
  return out;
}

/** a few SGD steps on random data with an MSE loss on output 0 (batched float outputs only) */
function perturbByTraining(im: ImportedModel, rng: Rng): Model | null {
  const o = im.outputs[0]!;
  const hasParams = im.graph.values.some((v) => v.role === 'param' && v.trainable);
  if (!hasParams || !o.batched || o.elemType !== OnnxDataType.FLOAT || im.inputs.some((i) => !i.batched)) return null;
  const B = 4;
  const m = compile(im.graph, { maxBatch: B, loss: { kind: 'mse', reduction: 'mean' }, optimizer: { kind: 'sgd', lr: 0.05 } });
  const per = o.dims.slice(1).reduce((p, q) => p * q, 1);
  for (let s = 0; s < 3; s++) {
    const feeds = randomFeeds(im, B, rng);
    m.trainStep(feeds[0]!.data as Float32Array, Float32Array.from({ length: B * per }, () => rng.normal()), B);
  }
  return m;
}

function compareWithOrt(label: string, edgenn: readonly OnnxTensor[], ortOut: Map<string, Float32Array>): void {
  for (const t of edgenn) {
    const r = ortOut.get(t.name);
    expect(r, `${label}: onnxruntime output ${t.name}`).toBeDefined();
    const a = Array.from(t.data as Float32Array);
    const m = mismatch(a, r!, TOL);
    expect(m, `${label} ${t.name}`).toBeNull();
    console.log(`parity ${label} ${t.name}: max |edgenn - ort| = ${maxAbsDiff(a, r!).toExponential(2)} over ${a.length} values`);
  }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const refs = referenceOnnxCases();

describe('export: reference models vs onnxruntime', () => {
  for (const rc of refs) {
    const base = rc.file.split('/').pop()!;
    for (const opset of [13, 17] as const) {
      it(`${base} (opset ${opset})`, async () => {
        const rng = new Rng(opset * 7 + base.length);
        const im = importOnnx(rc.file);
        const trained = perturbByTraining(im, rng);
        const bytes = exportOnnxBytes(trained ?? im, { opset });
        const b = im.inputs.some((i) => i.batched) ? 3 : 1;
        const feeds = randomFeeds(im, b, rng);
        // edgenn with the same (trained) weights, on a batch size the export never saw
        const ours = runImported(im, feeds, trained === null ? undefined : compileLike(trained, im, b)).outputs;
        compareWithOrt(`${base} opset ${opset}${trained !== null ? ' (trained)' : ''}`, ours, await ortRun(bytes, feeds));
      });
    }
  }
});

/** a fresh inference model with the trained weights (the trained one was compiled for batch 4) */
function compileLike(trained: Model, im: ImportedModel, b: number): Model {
  const m = compile(im.graph, { maxBatch: Math.max(b, 1) });
  for (const name of trained.paramNames()) m.setParam(name, trained.param(name));
  return m;
}

const SEQ: [string, number[], LayerSpec[]][] = [
  ['dense + every activation', [6], [
    { type: 'dense', out: 8 }, { type: 'relu' }, { type: 'dense', out: 8 }, { type: 'tanh' }, { type: 'dense', out: 8 }, { type: 'sigmoid' },
    { type: 'dense', out: 8 }, { type: 'leaky_relu', negativeSlope: 0.1 }, { type: 'dense', out: 8 }, { type: 'softplus' },
    { type: 'dense', out: 8 }, { type: 'softplus', beta: 2, threshold: 20 }, { type: 'dense', out: 5 }, { type: 'softmax' }]],
  ['dense + log_softmax, sign, step', [4], [
    { type: 'dense', out: 6 }, { type: 'sign' }, { type: 'dense', out: 6 }, { type: 'step' }, { type: 'dense', out: 3 }, { type: 'log_softmax' }]],
  ['conv1d + flatten + dense', [2, 12], [
    { type: 'conv1d', out: 4, kernel: 3, padding: 1 }, { type: 'relu' }, { type: 'conv1d', out: 3, kernel: 2, stride: 2, dilation: 2 },
    { type: 'tanh' }, { type: 'flatten' }, { type: 'dense', out: 4 }]],
];

describe('export: sequential models with every layer type vs onnxruntime', () => {
  for (const [name, dims, layers] of SEQ) {
    for (const opset of [13, 17] as const) {
      it(`${name} (opset ${opset})`, async () => {
        const rng = new Rng(11 + opset);
        const g = sequential(dims, layers, { seed: 5 });
        const out = g.values[g.outputs[0]!]!;
        const per = out.dims.reduce((p, q) => p * q, 1), nin = dims.reduce((p, q) => p * q, 1);
        const m = compile(g, { maxBatch: 4, loss: { kind: 'mse', reduction: 'mean' }, optimizer: { kind: 'sgd', lr: 0.05 } });
        for (let s = 0; s < 3; s++) {
          m.trainStep(Float32Array.from({ length: 4 * nin }, () => rng.normal()), Float32Array.from({ length: 4 * per }, () => rng.normal()), 4);
        }
        const bytes = exportOnnxBytes(m, { opset });
        const x = Float32Array.from({ length: 3 * nin }, () => rng.normal());
        const inf = compile(g, { maxBatch: 3 });
        for (const p of m.paramNames()) inf.setParam(p, m.param(p));
        const y = Array.from(inf.run(x, 3).subarray(0, 3 * per));
        const r = await ortRun(bytes, [{ name: 'input', dataType: OnnxDataType.FLOAT, dims: [3, ...dims], data: x }]);
        expect(mismatch(y, [...r.values()][0]!, TOL)).toBeNull();
        console.log(`parity sequential ${name} opset ${opset}: max |edgenn - ort| = ${maxAbsDiff(y, [...r.values()][0]!).toExponential(2)}`);
        // and edgenn reads its own export back to the same numbers
        const back = importOnnx(bytes);
        const yb = runImported(back, [{ name: 'input', dataType: OnnxDataType.FLOAT, dims: [3, ...dims], data: x }]).outputs[0]!;
        expect(mismatch(Array.from(yb.data as Float32Array), y, { abs: 0, rel: 0 })).toBeNull();
      });
    }
  }
});

/** structural equality of two graphs: ops, attributes, names, shapes, roles, weights (exact) */
function sameGraph(a: Graph, b: Graph): string | null {
  if (a.nodes.length !== b.nodes.length) return `node count ${a.nodes.length} vs ${b.nodes.length}`;
  for (let i = 0; i < a.nodes.length; i++) {
    const p = a.nodes[i]!, q = b.nodes[i]!;
    if (p.op !== q.op) return `node ${i}: op ${p.op} vs ${q.op}`;
    if (JSON.stringify(p.attrs) !== JSON.stringify(q.attrs)) return `node ${i}: attrs ${JSON.stringify(p.attrs)} vs ${JSON.stringify(q.attrs)}`;
    if (p.inputs.length !== q.inputs.length) return `node ${i}: input count`;
    for (let k = 0; k < p.inputs.length; k++) {
      const u = a.values[p.inputs[k]!]!, v = b.values[q.inputs[k]!]!;
      if (u.role !== v.role || u.dtype !== v.dtype || u.batched !== v.batched || u.trainable !== v.trainable || u.dims.join() !== v.dims.join()) {
        return `node ${i} input ${k}: ${u.name} ${u.role} [${u.dims}] vs ${v.name} ${v.role} [${v.dims}]`;
      }
      if ((u.role === 'param' || u.role === 'const') && (u.name !== v.name && u.role === 'param')) return `param name ${u.name} vs ${v.name}`;
      if (u.init !== null && (v.init === null || u.init.length !== v.init.length || u.init.some((x, j) => x !== v.init![j]))) return `weights of ${u.name} differ`;
    }
  }
  const io = (g: Graph, ids: readonly number[]) => ids.map((i) => `${g.values[i]!.name}:${g.values[i]!.batched}:${g.values[i]!.dims.join('x')}`).join(',');
  if (io(a, a.inputs) !== io(b, b.inputs)) return `inputs ${io(a, a.inputs)} vs ${io(b, b.inputs)}`;
  if (io(a, a.outputs) !== io(b, b.outputs)) return `outputs ${io(a, a.outputs)} vs ${io(b, b.outputs)}`;
  return null;
}

describe('export: import -> export -> import is lossless', () => {
  for (const rc of refs) {
    it(rc.file.split('/').pop()!, () => {
      const a = importOnnx(rc.file);
      for (const opset of [13, 17] as const) {
        const b = importOnnx(exportOnnxBytes(a, { opset }));
        expect(sameGraph(a.graph, b.graph)).toBeNull();
        expect(b.layers.map((l) => l.params)).toEqual(a.layers.map((l) => l.params));
      }
    });
  }
  it('a trained model exports its trained weights', () => {
    const im = importOnnx(refs.find((r) => r.file.endsWith('mlp_grad_tanh.onnx'))!.file);
    const m = perturbByTraining(im, new Rng(3))!;
    const back = importOnnx(exportOnnxBytes(m));
    for (const name of m.paramNames()) {
      const v = back.graph.values.find((q) => q.name === name)!;
      expect(Array.from(v.init!)).toEqual(Array.from(m.param(name)));
    }
    const orig = im.graph.values.find((q) => q.name === m.paramNames()[0])!;
    expect(Array.from(orig.init!)).not.toEqual(Array.from(m.param(m.paramNames()[0]!)));
  });
});

describe('export: the file', () => {
  it('producer, IR per opset, dynamic batch, named I/O, Gemm and Conv attributes', () => {
    const g = sequential([1, 8], [{ type: 'conv1d', out: 2, kernel: 3, stride: 2, padding: 1 }, { type: 'flatten' }, { type: 'dense', out: 3 }]);
    for (const [opset, ir] of [[13, 7], [17, 8]] as const) {
      const m = decodeModel(exportOnnxBytes(g, { opset }));
      expect(m.producerName).toBe('edgenn');
      expect(m.irVersion).toBe(ir);
      expect(m.opsetImports.get('ai.onnx')).toBe(opset);
      expect(m.graph.inputs[0]!.name).toBe('input');
      expect(m.graph.inputs[0]!.shape).toEqual(['batch', 1, 8]);
      expect(m.graph.outputs[0]!.shape).toEqual(['batch', 3]);
      const conv = m.graph.nodes.find((n) => n.opType === 'Conv')!;
      expect(conv.attributes.get('strides')).toEqual({ type: 'ints', value: [2] });
      expect(conv.attributes.get('pads')).toEqual({ type: 'ints', value: [1, 1] });
      expect(conv.attributes.get('kernel_shape')).toEqual({ type: 'ints', value: [3] });
      const gemm = m.graph.nodes.find((n) => n.opType === 'Gemm')!;
      expect(gemm.attributes.get('transB')).toEqual({ type: 'int', value: 1 });
      expect(m.graph.initializers.get('2.weight')!.dims).toEqual([3, 8]);
    }
    expect(() => exportOnnx(g, { opset: 12 as 13 })).toThrow(/13 or 17/);
  });
});
