// QDQ ONNX import (importers/onnx/qdq.ts):
//  - PyTorch's QAT exports (the qat_model cases' .onnx files): Q/DQ pairs become frozen fake-quant
//    sites, Gemm over a fake-quantized weight a dense layer; the QAT graph reproduces the file's
//    expected outputs (onnx[i].io) exactly as the literal import does (tolerance 1e-6: the same
//    float32 operations, only summation order may differ); the int8 graph (1-byte weights, integer
//    kernels) within one output quantization step (gemmlowp requantization vs a float product
//    rounded once);
//  - onnxruntime-quantization-style QDQ (DQ(int8 weight initializer, per-axis) -> MatMul [K, N]
//    -> Add(DQ(int32 bias)), activations Q -> DQ): same checks against the literal import, and
//    the int8 graph's weights are the file's codes exactly;
//  - edgenn's own int8 export imports back to the same int8 outputs within one step (the export
//    rounds x / s like ONNX; edgenn's int8 model multiplies by 1 / s);
//  - an imported QDQ model fine-tunes with QAT: the loss falls, weights move, the file's qparams
//    stay (observers frozen at import).
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { casesOfKind, loadCase, REFERENCE_DIR, expectClose } from '../../helpers/reference.js';
import { onnxModel, onnxNode, tensorF } from './onnx-helpers.js';
import { importOnnx } from '../../../importers/onnx/import.js';
import { importQdq, importQdqInt8 } from '../../../importers/onnx/qdq.js';
import { exportOnnxBytes } from '../../../importers/onnx/export.js';
import { OnnxDataType, type OnnxTensor } from '../../../importers/onnx/model.js';
import { compile } from '../../../runtime/model.js';
import { Op, type Graph } from '../../../runtime/graph/graph.js';
import { sequential } from '../../../runtime/graph/sequential.js';
import { prepareQat, calibrate, qatSites } from '../../../runtime/quant/qat.js';
import { convertToInt8 } from '../../../runtime/quant/convert.js';
import { Rng } from '../../../runtime/random.js';

interface IoTensor { shape: number[]; data: (number | string)[] }
interface OnnxFile { file: string; io: { inputs: Record<string, IoTensor>; expected: Record<string, IoTensor> } }

const run = (g: Graph, x: Float32Array, b: number): Float32Array => compile(g, { maxBatch: b }).run(x).slice();
/** the output grid step of a QAT graph: the scale of its last fake-quant site */
function outStep(g: Graph, x: Float32Array, b: number): number {
  const m = compile(g, { maxBatch: b });
  m.run(x);
  const s = qatSites(m);
  return s[s.length - 1]!.scale[0]!;
}

describe('PyTorch QDQ exports (qat_model cases)', () => {
  for (const name of casesOfKind('qat_model')) {
    const c = loadCase(name);
    for (const o of c.onnx as unknown as OnnxFile[]) {
      it(`${name}: ${o.file}`, () => {
        const path = join(REFERENCE_DIR, o.file);
        const inp = Object.values(o.io.inputs)[0]!, exp = Object.values(o.io.expected)[0]!;
        const x = Float32Array.from(inp.data.map(Number)), want = Float32Array.from(exp.data.map(Number));
        const B = inp.shape[0]!;
        const q = importQdq(path);
        expect(q.layers).toBe(2);
        expect(q.graph.nodes.filter((n) => n.op === Op.Quantize || n.op === Op.Dequantize).length).toBe(0);
        expectClose('literal import', run(importOnnx(path).graph, x, B), want, { abs: 1e-6, rel: 0 });
        expectClose('QAT graph', run(q.graph, x, B), want, { abs: 1e-6, rel: 0 });
        const g8 = importQdqInt8(path);
        expect(g8.nodes.filter((n) => n.op === Op.Int8Linear).length).toBe(2);
        expect(g8.values.filter((v) => v.dtype === 'i8' && v.role === 'const').length).toBe(2);
        const step = outStep(q.graph, x, B);
        expectClose('int8 graph', run(g8, x, B), want, { abs: step * (1 + 1e-6), rel: 0 });
      });
    }
  }
});

describe('onnxruntime-quantization-style QDQ (int8 weight initializers, MatMul, int32 bias)', () => {
  const K = 6, N = 5, rng = new Rng(11);
  const wq = Int8Array.from({ length: K * N }, () => Math.round(rng.uniform(-127, 127)));
  const ws = Float32Array.from({ length: N }, () => rng.uniform(0.002, 0.01));
  const bq = Int32Array.from({ length: N }, () => Math.round(rng.uniform(-500, 500)));
  const xs = 0.02, ys = 0.01;
  const t = (name: string, dataType: OnnxDataType, dims: number[], data: OnnxTensor['data']): OnnxTensor => ({ name, dataType, dims, data });
  const model = onnxModel({
    opset: 13,
    inputs: [{ name: 'x', shape: ['batch', K] }], outputs: [{ name: 'y', shape: ['batch', N] }],
    initializers: [
      t('W_quantized', OnnxDataType.INT8, [K, N], wq), tensorF('W_scale', [N], ws), t('W_zero_point', OnnxDataType.INT8, [N], new Int8Array(N)),
      t('B_quantized', OnnxDataType.INT32, [N], bq), tensorF('B_scale', [N], ws.map((s) => Math.fround(s * xs))), t('B_zero_point', OnnxDataType.INT32, [N], new Int32Array(N)),
      tensorF('x_scale', [], [xs]), t('x_zero_point', OnnxDataType.UINT8, [], Uint8Array.of(128)),
      tensorF('y_scale', [], [ys]), t('y_zero_point', OnnxDataType.UINT8, [], Uint8Array.of(100)),
    ],
    nodes: [
      onnxNode('QuantizeLinear', ['x', 'x_scale', 'x_zero_point'], ['xq']),
      onnxNode('DequantizeLinear', ['xq', 'x_scale', 'x_zero_point'], ['xd']),
      onnxNode('DequantizeLinear', ['W_quantized', 'W_scale', 'W_zero_point'], ['W'], { axis: 1 }),
      onnxNode('DequantizeLinear', ['B_quantized', 'B_scale', 'B_zero_point'], ['B'], { axis: 0 }),
      onnxNode('MatMul', ['xd', 'W'], ['mm']),
      onnxNode('Add', ['mm', 'B'], ['lin']),
      onnxNode('QuantizeLinear', ['lin', 'y_scale', 'y_zero_point'], ['yq']),
      onnxNode('DequantizeLinear', ['yq', 'y_scale', 'y_zero_point'], ['y']),
    ],
  });
  it('imports to a dense layer on int8 codes with the file\'s weights', () => {
    const B = 16, x = Float32Array.from({ length: B * K }, () => rng.uniform(-2, 2));
    const literal = run(importOnnx(model).graph, x, B);
    const q = importQdq(model);
    expect(q.layers).toBe(1);
    expectClose('QAT graph', run(q.graph, x, B), literal, { abs: 1e-6, rel: 0 });
    const g8 = importQdqInt8(model);
    const w8 = g8.values.find((v) => v.dtype === 'i8' && v.role === 'const')!;
    // [K, N] in the file, [N, K] (out, in) in edgenn: the same codes, transposed
    const back = new Int8Array(K * N);
    for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) back[k * N + n] = (w8.init as Int8Array)[n * K + k]!;
    expect(Array.from(back)).toEqual(Array.from(wq));
    const bias = g8.values.find((v) => v.name.endsWith('.bias') && v.dtype === 'i32')!;
    expect(Array.from(bias.init as Int32Array)).toEqual(Array.from(bq));
    expectClose('int8 graph', run(g8, x, B), literal, { abs: ys * (1 + 1e-6), rel: 0 });
  });
});

describe('edgenn int8 export imports back', () => {
  it('calibrated MLP: export -> importQdqInt8 gives the same int8 outputs within one step', () => {
    const rng = new Rng(5);
    const m = compile(prepareQat(sequential([8], [{ type: 'dense', out: 12 }, { type: 'relu' }, { type: 'dense', out: 4 }], { seed: 2 }), { observer: 'minmax' }), { maxBatch: 32 });
    const x = Float32Array.from({ length: 32 * 8 }, () => rng.uniform(-1, 1));
    calibrate(m, x);
    const m8 = compile(convertToInt8(m), { maxBatch: 32 });
    const y8 = m8.run(x).slice();
    const g8 = importQdqInt8(exportOnnxBytes(m8, { opset: 13 }));
    expect(g8.nodes.filter((n) => n.op === Op.Int8Linear).length).toBe(2);
    const s = qatSites(m);
    expectClose('re-imported int8', run(g8, x, 32), y8, { abs: s[s.length - 1]!.scale[0]! * (1 + 1e-6), rel: 0 });
  });
});

describe('fine-tuning an imported QDQ model with QAT', () => {
  it('qat_mlp_qnnpack_qdq.onnx: loss falls, weights move, the file\'s qparams stay', () => {
    const c = loadCase(casesOfKind('qat_model')[0]!);
    const o = (c.onnx as unknown as OnnxFile[])[0]!;
    const q = importQdq(join(REFERENCE_DIR, o.file));
    const X = Float32Array.from((c.inputs['X']!.data as number[]).map(Number));
    const y = Int32Array.from((c.inputs['y']!.data as number[]).map(Number));
    const N = y.length;
    const m = compile(q.graph, { maxBatch: N, loss: { kind: 'cross-entropy' }, optimizer: { kind: 'sgd', lr: 0.1 } });
    const before = qatSites(m).map((s) => [...s.scale, ...s.zeroPoint]);
    const w0 = m.param(m.plan.params[0]!.name).slice();
    m.trainStep(X, y, N);
    const first = m.lossView[0]!;
    for (let t = 0; t < 30; t++) m.trainStep(X, y, N);
    expect(m.lossView[0]!).toBeLessThan(first);
    expect(m.param(m.plan.params[0]!.name)).not.toEqual(w0);
    expect(qatSites(m).map((s) => [...s.scale, ...s.zeroPoint])).toEqual(before);
  });
});
