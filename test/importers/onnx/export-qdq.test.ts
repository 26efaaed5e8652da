// QDQ ONNX export, run by onnxruntime-node:
//  - the int8 model (convertToInt8 of the QAT-trained qat_model cases, and of calibrated models
//    with conv1d and 3 dense layers) exports as QuantizeLinear / DequantizeLinear around int8
//    weights (per-axis scales), int32 biases and activations, opset 13; onnxruntime runs it and
//    agrees with edgenn's int8 kernels within ONE output quantization step per element, and
//    exactly on most elements. Why not bit-exact: edgenn requantizes the int32 accumulator with
//    a fixed-point multiplier and gemmlowp's rounding (ties away from zero, TFLite), onnxruntime
//    requantizes QDQ graphs in float (ties to even after a float32 multiply); the two round the
//    same sum differently when it lies within ~1e-6 of a half-step, which moves that code by one.
//    The test also bounds how often: at most 5% of the output elements.
//  - the fake-quant (QAT) model exports as Q/DQ pairs around the float weights and activations;
//    onnxruntime agrees within one output step too (ONNX divides by the scale where PyTorch
//    multiplies by its reciprocal: ties can round differently).
//  - the exported int8 model holds 1-byte weights: its INT8 initializers carry the weights.
import { describe, it, expect } from 'vitest';
import * as ort from 'onnxruntime-node';
import { casesOfKind, loadCase, f32, ints } from '../../helpers/reference.js';
import { buildQatCase } from '../../runtime/quant/qat-case.js';
import { compile, type Model } from '../../../runtime/model.js';
import { sequential, type LayerSpec } from '../../../runtime/graph/sequential.js';
import { prepareQat, calibrate, qatSites, setQatMode, type QatConfig } from '../../../runtime/quant/qat.js';
import { convertToInt8 } from '../../../runtime/quant/convert.js';
import { exportOnnx, exportOnnxBytes } from '../../../importers/onnx/export.js';
import { OnnxDataType } from '../../../importers/onnx/model.js';
import { Rng } from '../../../runtime/random.js';

async function ortRun(bytes: Uint8Array, x: Float32Array, dims: number[]): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes);
  const r = await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', x, dims) });
  return r[s.outputNames[0]!]!.data as Float32Array;
}

/** max |a - b| in output steps, and how many elements differ at all */
function compare(a: Float32Array, b: Float32Array, step: number): { steps: number; differing: number } {
  let m = 0, n = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d > 0) n++;
    m = Math.max(m, d / step);
  }
  return { steps: m, differing: n };
}

function outputStep(m: Model): number {
  const s = qatSites(m);
  return s[s.length - 1]!.scale[0]!;
}

async function checkBoth(label: string, m: Model, x: Float32Array, dims: number[]): Promise<void> {
  setQatMode(m, { observe: false, fakeQuant: true });
  const b = dims[0]!;
  const step = outputStep(m);
  const g8 = convertToInt8(m);
  const m8 = compile(g8, { maxBatch: b });
  const y8 = m8.run(x).slice();
  const onnx = exportOnnx(m8, { opset: 13 });
  expect(onnx.graph.nodes.map((n) => n.opType)).toContain('QuantizeLinear');
  const int8Weights = [...onnx.graph.initializers.values()].filter((t) => t.dataType === OnnxDataType.INT8 && t.dims.length >= 2);
  expect(int8Weights.length).toBe(g8.values.filter((v) => v.dtype === 'i8' && v.role === 'const').length);
  const r8 = compare(await ortRun(exportOnnxBytes(m8, { opset: 13 }), x, dims), y8, step);
  console.log(`QDQ ${label}: int8 edgenn vs onnxruntime: max ${r8.steps.toFixed(3)} output steps, ${r8.differing}/${y8.length} elements differ`);
  expect(r8.steps).toBeLessThanOrEqual(1 + 1e-5);
  expect(r8.differing).toBeLessThanOrEqual(Math.ceil(0.05 * y8.length));
  const yf = m.run(x).slice(0, y8.length);
  const rf = compare(await ortRun(exportOnnxBytes(m, { opset: 13 }), x, dims), yf, step);
  console.log(`QDQ ${label}: fake-quant edgenn vs onnxruntime: max ${rf.steps.toFixed(3)} output steps, ${rf.differing}/${yf.length} elements differ`);
  expect(rf.steps).toBeLessThanOrEqual(1 + 1e-5);
}

describe('QDQ export of the qat_model cases runs in onnxruntime', () => {
  for (const name of casesOfKind('qat_model')) {
    it(name, async () => {
      const c = loadCase(name);
      const X = f32(c.inputs['X']!), y = ints(c.inputs['y']!);
      const I = (c.params['layer_sizes'] as number[])[0]!;
      const N = X.length / I;
      const m = buildQatCase(c, N);
      for (let t = 0; t < (c.params['steps'] as number); t++) m.trainStep(X, y, N);
      await checkBoth(name, m, X, [N, I]);
    });
  }
});

describe('QDQ export of calibrated models runs in onnxruntime', () => {
  const rnd = (n: number, seed: number): Float32Array => { const r = new Rng(seed); return Float32Array.from({ length: n }, () => r.uniform(-2, 2)); };
  const nets: [string, number[], LayerSpec[], QatConfig][] = [
    ['mlp per-channel uint8', [10], [{ type: 'dense', out: 24 }, { type: 'relu' }, { type: 'dense', out: 12 }, { type: 'relu' }, { type: 'dense', out: 5 }], { observer: 'minmax' }],
    ['mlp per-tensor int8 activations', [10], [{ type: 'dense', out: 16 }, { type: 'relu' }, { type: 'dense', out: 3 }],
      { observer: 'minmax', weights: { perChannel: false }, activations: { signed: true } }],
    ['conv1d', [2, 12], [{ type: 'conv1d', out: 4, kernel: 3, padding: 1 }, { type: 'relu' }, { type: 'flatten' }, { type: 'dense', out: 3 }], { observer: 'minmax' }],
  ];
  for (const [label, inDims, layers, cfg] of nets) {
    it(label, async () => {
      const per = inDims.reduce((p, d) => p * d, 1);
      const m = compile(prepareQat(sequential(inDims, layers, { seed: 3 }), cfg), { maxBatch: 40 });
      const x = rnd(40 * per, 7);
      calibrate(m, x);
      await checkBoth(label, m, x, [40, ...inDims]);
    });
  }
});
