// The importer's promises beyond single ops (the conformance test covers those):
//  - every reference .onnx reproduces its recorded outputs (PyTorch / numpy) within the case's
//    own tolerance (abs 1e-5 / rel 1e-5 or 1e-4; QDQ cases state theirs);
//  - dynamic batch: a 'batch' first dim becomes a batched graph; one plan runs every batch size;
//  - the exporters' Shape -> Gather -> Unsqueeze -> Concat -> Reshape chain over the symbolic
//    batch is folded at import (no runtime node), and arithmetic on the batch size is refused;
//  - Identity / Dropout are removed; BatchNormalization folds into the Conv / Gemm before it (and
//    into a Mul + Add when there is none), with the same results as the unfolded form;
//  - opset_import decides semantics (Softmax < 13 coerces to 2-D; Clip / Squeeze / Unsqueeze /
//    ReduceSum take attributes before 11 / 13 and inputs after);
//  - an unsupported model gets one error listing every unsupported node.
// Numeric tolerances: reference cases use their own; self-comparisons (folded vs unfolded,
// batch sizes) are exact or 1e-6 relative where the float32 summation order changes.
import { describe, it, expect } from 'vitest';
import { f32, mismatch } from '../../helpers/reference.js';
import { referenceOnnxCases, toOnnxTensor, runImported, onnxModel, onnxNode, tensorF, tensorI64 } from './onnx-helpers.js';
import { importOnnx, unsupportedNodes } from '../../../importers/onnx/import.js';
import { OnnxDataType } from '../../../importers/onnx/model.js';
import { EdgennError } from '../../../runtime/errors.js';
import { Op } from '../../../runtime/graph/graph.js';
import { compile } from '../../../runtime/model.js';
import { Rng } from '../../../runtime/random.js';

const rng = new Rng(42);
const randn = (n: number) => Array.from({ length: n }, () => rng.normal());

describe('reference ONNX models reproduce their recorded outputs', () => {
  const cases = referenceOnnxCases();
  it('covers every .onnx fixture', () => expect(cases.length).toBeGreaterThanOrEqual(19));
  for (const rc of cases) {
    it(rc.file.split('/').pop()!, () => {
      const im = importOnnx(rc.file);
      const feeds = im.inputs.map((io) => toOnnxTensor(io.name, rc.inputs[io.name]!));
      const { outputs } = runImported(im, feeds);
      expect(outputs.length).toBe(Object.keys(rc.expected).filter((k) => !k.endsWith('_f64')).length);
      for (const o of outputs) {
        const e = rc.expected[o.name]!;
        expect(o.dims).toEqual(e.shape);
        expect(mismatch(Array.from(o.data as Float32Array), f32(e), rc.tolerance), o.name).toBeNull();
      }
    });
  }
});

describe('dynamic batch and shape subgraphs', () => {
  // y = Reshape(Relu(x), Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])) -> [batch, 12] for x [batch, 3, 4]
  const shapeChain = () => onnxModel({
    nodes: [
      onnxNode('Shape', ['x'], ['s']),
      onnxNode('Gather', ['s', 'zero'], ['b'], { axis: 0 }),
      onnxNode('Unsqueeze', ['b', 'axes0'], ['b1']),
      onnxNode('Concat', ['b1', 'minus1'], ['shape'], { axis: 0 }),
      onnxNode('Relu', ['x'], ['r']),
      onnxNode('Reshape', ['r', 'shape'], ['y']),
    ],
    inputs: [{ name: 'x', shape: ['batch', 3, 4] }],
    outputs: [{ name: 'y', shape: ['batch', 12] }],
    initializers: [tensorI64('zero', [], [0]), tensorI64('axes0', [1], [0]), tensorI64('minus1', [1], [-1])],
  });

  it('folds Shape -> Gather -> Unsqueeze -> Concat -> Reshape over the symbolic batch', () => {
    const im = importOnnx(shapeChain());
    expect(im.inputs[0]!.batched).toBe(true);
    expect(im.outputs[0]!.dims).toEqual([-1, 12]);
    expect(im.graph.nodes.map((n) => n.op)).toEqual([Op.Relu, Op.Reshape]);
    expect(im.foldedNodes).toBeGreaterThanOrEqual(2);
    const m = compile(im.graph, { maxBatch: 5 });
    for (const b of [1, 3, 5]) {
      const x = randn(b * 12);
      const y = m.run(x, b);
      expect(Array.from(y.subarray(0, b * 12))).toEqual(x.map((v) => Math.fround(Math.max(0, v))));
    }
  });

  it('refuses arithmetic on the batch size with a clear error', () => {
    const m = onnxModel({
      nodes: [onnxNode('Shape', ['x'], ['s']), onnxNode('Mul', ['s', 's'], ['s2']), onnxNode('Reshape', ['x', 's2'], ['y'])],
      inputs: [{ name: 'x', shape: ['batch', 4] }], outputs: [{ name: 'y' }],
    });
    expect(() => importOnnx(m)).toThrow(/batch size/);
  });

  it('refuses a reshape that would mix the batch with other dims', () => {
    const m = onnxModel({
      nodes: [onnxNode('Reshape', ['x', 'shape'], ['y'])],
      inputs: [{ name: 'x', shape: ['batch', 4] }], outputs: [{ name: 'y' }],
      initializers: [tensorI64('shape', [1], [-1])],
    });
    expect(() => importOnnx(m)).toThrow(EdgennError);
  });
});

describe('clean-ups: Identity, Dropout, BatchNormalization folding', () => {
  const C = 3;
  const bnInits = [tensorF('gamma', [C], [1.5, 0.5, 2]), tensorF('beta', [C], [0.1, -0.2, 0.3]),
    tensorF('mean', [C], [0.2, -0.1, 0.05]), tensorF('var', [C], [0.9, 1.2, 0.4])];
  const convBn = (withBias: boolean) => onnxModel({
    nodes: [
      onnxNode('Identity', ['x'], ['xi']),
      onnxNode('Conv', withBias ? ['xi', 'w', 'b'] : ['xi', 'w'], ['c'], { kernel_shape: [3], pads: [1, 1] }),
      onnxNode('BatchNormalization', ['c', 'gamma', 'beta', 'mean', 'var'], ['bn'], { epsilon: { float: 1e-3 } }),
      onnxNode('Dropout', ['bn'], ['d']),
      onnxNode('Relu', ['d'], ['y']),
    ],
    inputs: [{ name: 'x', shape: ['batch', 2, 6] }], outputs: [{ name: 'y' }],
    initializers: [tensorF('w', [C, 2, 3], randn(C * 6)), ...(withBias ? [tensorF('b', [C], [0.3, -0.3, 0.1])] : []), ...bnInits],
    opset: 13,
  });

  for (const withBias of [true, false]) {
    it(`Conv${withBias ? ' with bias' : ''} + BatchNormalization folds into one Conv with the same results`, () => {
      const model = convBn(withBias);
      const folded = importOnnx(model);
      const plain = importOnnx(model, { foldBatchNorm: false });
      expect(folded.foldedBatchNorms).toBe(1);
      expect(folded.removedNodes).toBe(2);
      expect(folded.graph.nodes.map((n) => n.op)).toEqual([Op.Conv2d, Op.Relu]);
      expect(plain.graph.nodes.map((n) => n.op)).toEqual([Op.Conv2d, Op.Binary, Op.Binary, Op.Relu]);
      const x = { name: 'x', dataType: OnnxDataType.FLOAT, dims: [4, 2, 6], data: Float32Array.from(randn(48)) };
      const a = runImported(folded, [x]).outputs[0]!, b = runImported(plain, [x]).outputs[0]!;
      // the folded weights round once more: float32 rounding differences only
      expect(mismatch(Array.from(a.data as Float32Array), Array.from(b.data as Float32Array), { abs: 1e-6, rel: 1e-6 })).toBeNull();
      // the folded layer's parameters are trainable like any conv
      expect(folded.layers.map((l) => l.params)).toEqual([['w', withBias ? 'b' : 'beta']]);
    });
  }

  it('BatchNormalization with parameters fed at run time computes the ONNX formula', () => {
    const m = onnxModel({
      nodes: [onnxNode('BatchNormalization', ['x', 's', 'bb', 'm', 'v'], ['y'], { epsilon: { float: 1e-5 } })],
      inputs: ['x', 's', 'bb', 'm', 'v'].map((n) => ({ name: n, shape: n === 'x' ? [2, C, 2] : [C] })), outputs: [{ name: 'y' }],
    });
    const im = importOnnx(m);
    const x = randn(12), s = [1, 2, 3], bb = [0, 1, -1], mu = [0.5, 0, -0.5], v = [1, 4, 0.25];
    const t = (n: string, dims: number[], d: number[]) => ({ name: n, dataType: OnnxDataType.FLOAT, dims, data: Float32Array.from(d) });
    const y = runImported(im, [t('x', [2, C, 2], x), t('s', [C], s), t('bb', [C], bb), t('m', [C], mu), t('v', [C], v)]).outputs[0]!;
    const want = x.map((xv, i) => { const c = Math.floor(i / 2) % C; return (xv - mu[c]!) / Math.sqrt(v[c]! + 1e-5) * s[c]! + bb[c]!; });
    expect(mismatch(Array.from(y.data as Float32Array), want, { abs: 1e-6, rel: 1e-5 })).toBeNull();
  });
});

describe('opset versions decide semantics', () => {
  const softmax = (opset: number) => onnxModel({ nodes: [onnxNode('Softmax', ['x'], ['y'], { axis: 1 })],
    inputs: [{ name: 'x', shape: [2, 3, 4] }], outputs: [{ name: 'y' }], opset });
  it('Softmax axis 1: a 2-D coercion before opset 13, along the axis from 13 on', () => {
    const x = randn(24);
    const feed = [{ name: 'x', dataType: OnnxDataType.FLOAT, dims: [2, 3, 4], data: Float32Array.from(x) }];
    const old = runImported(importOnnx(softmax(11)), feed).outputs[0]!.data as Float32Array;
    const now = runImported(importOnnx(softmax(13)), feed).outputs[0]!.data as Float32Array;
    const rowSum = (d: Float32Array, idx: number[]) => idx.reduce((p, i) => p + d[i]!, 0);
    expect(rowSum(old, Array.from({ length: 12 }, (_, i) => i))).toBeCloseTo(1, 5);   // one softmax over 12
    expect(rowSum(now, [0, 4, 8])).toBeCloseTo(1, 5);                                  // over axis 1 (3 entries, stride 4)
    expect(rowSum(old, [0, 4, 8])).not.toBeCloseTo(1, 2);
  });
  it('Clip bounds: attributes before opset 11, inputs after', () => {
    const x = { name: 'x', dataType: OnnxDataType.FLOAT, dims: [4], data: Float32Array.of(-3, -0.5, 0.5, 3) };
    const v6 = onnxModel({ nodes: [onnxNode('Clip', ['x'], ['y'], { min: { float: -1 }, max: { float: 1 } })], inputs: [{ name: 'x', shape: [4] }], outputs: [{ name: 'y' }], opset: 6 });
    const v13 = onnxModel({ nodes: [onnxNode('Clip', ['x', 'lo', 'hi'], ['y'])], inputs: [{ name: 'x', shape: [4] }], outputs: [{ name: 'y' }],
      initializers: [tensorF('lo', [], [-1]), tensorF('hi', [], [1])], opset: 13 });
    for (const m of [v6, v13]) expect(Array.from(runImported(importOnnx(m), [x]).outputs[0]!.data as Float32Array)).toEqual([-1, -0.5, 0.5, 1]);
  });
  it('Unsqueeze / ReduceSum axes: attributes before opset 13, inputs after', () => {
    const mk = (opset: number) => onnxModel({
      nodes: opset < 13
        ? [onnxNode('Unsqueeze', ['x'], ['u'], { axes: [1] }), onnxNode('ReduceSum', ['u'], ['y'], { axes: [2], keepdims: 0 })]
        : [onnxNode('Unsqueeze', ['x', 'a1'], ['u']), onnxNode('ReduceSum', ['u', 'a2'], ['y'], { keepdims: 0 })],
      inputs: [{ name: 'x', shape: [2, 3] }], outputs: [{ name: 'y' }], opset,
      initializers: opset < 13 ? [] : [tensorI64('a1', [1], [1]), tensorI64('a2', [1], [2])],
    });
    const x = { name: 'x', dataType: OnnxDataType.FLOAT, dims: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) };
    for (const opset of [11, 13]) {
      const y = runImported(importOnnx(mk(opset)), [x]).outputs[0]!;
      expect(y.dims).toEqual([2, 1]);
      expect(Array.from(y.data as Float32Array)).toEqual([6, 15]);
    }
  });
});

describe('unsupported models', () => {
  it('one error lists every unsupported node with op type, domain, opset and name', () => {
    const m = onnxModel({
      nodes: [
        onnxNode('LSTM', ['x'], ['a'], {}, 'lstm_1'),
        onnxNode('Relu', ['a'], ['b']),
        { ...onnxNode('FusedGemm', ['b'], ['c'], {}, 'ms_1'), domain: 'com.microsoft' },
        onnxNode('Einsum', ['c'], ['y'], {}, 'einsum_1'),
      ],
      inputs: [{ name: 'x', shape: ['batch', 4] }], outputs: [{ name: 'y' }],
    });
    expect(unsupportedNodes(m).map((u) => u.node)).toEqual(['lstm_1', 'ms_1', 'einsum_1']);
    try {
      importOnnx(m);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(EdgennError);
      const err = e as EdgennError;
      expect(err.code).toBe('UNSUPPORTED');
      expect(err.message).toContain('3 unsupported nodes');
      expect(err.message).toContain('LSTM (domain ai.onnx, opset 17) at node lstm_1');
      expect(err.message).toContain('FusedGemm (domain com.microsoft, opset ?) at node ms_1');
      expect(err.message).toContain('Einsum (domain ai.onnx, opset 17) at node einsum_1');
    }
  });
  it('an opset newer than the rules know is refused per node', () => {
    const m = onnxModel({ nodes: [onnxNode('Relu', ['x'], ['y'])], inputs: [{ name: 'x', shape: [2] }], outputs: [{ name: 'y' }], opset: 99 });
    expect(() => importOnnx(m)).toThrow(/opset 99 is newer/);
  });
});
