// The qat_model reference cases end to end: the case's MLP built in edgenn, prepareQat with the
// case's qconfig (fused moving-average observers, per-tensor or per-channel weights, reduce_range
// activations, fused or unfused ReLU), 20 full-batch SGD steps through the graph (fake-quant
// sites as graph ops, trained by the same planner/executor), then:
//   - losses[t] and every site's running min/max, scale and zero point after each forward
//     (trajectory.*), final weights and qparams: the case's tolerance (abs 1e-4 + rel 1e-3: the
//     re-implementation is exact, float32 summation order in the dense kernels moves values by
//     ~1e-6, which can flip one fake-quant code and shift later steps slightly);
//   - eval_output / train_output_final with observers off: the case's override (one output step);
//   - the converted int8 model (convertToInt8: int8 weights as bytes, integer kernels) against
//     int8_engine_output (PyTorch's converted model on qnnpack): the case's override (two output
//     steps: the engines requantize differently), and against our own fake-quant eval output:
//     within one output quantization step (the requirement; the fake-quant model rounds the
//     float sum once, the int8 model rounds the bias and the requantization multiplier too);
//   - the arena's weight bytes shrink ~4x (int8 weights + int32 biases/requantization constants).
import { describe, it, expect } from 'vitest';
import { casesOfKind, loadCase, f32, ints, expectClose, toleranceFor } from '../../helpers/reference.js';
import { compile } from '../../../runtime/model.js';
import { qatSites, setQatMode, type QatSite } from '../../../runtime/quant/qat.js';
import { convertToInt8, weightBytes } from '../../../runtime/quant/convert.js';
import { Op } from '../../../runtime/graph/graph.js';

import { SITE_NAMES, buildQatCase } from './qat-case.js';

const cases = casesOfKind('qat_model');

describe('qat_model cases through the graph (prepareQat + trainer kernels + convert)', () => {
  it('has cases', () => expect(cases.length).toBeGreaterThanOrEqual(3));
  for (const name of cases) {
    describe(name, () => {
      const c = loadCase(name);
      const X = f32(c.inputs['X']!), y = ints(c.inputs['y']!), Xe = f32(c.inputs['X_eval']!);
      const [I, , O] = c.params['layer_sizes'] as [number, number, number];
      const N = X.length / I, Ne = Xe.length / I;
      const steps = c.params['steps'] as number;
      const model = buildQatCase(c, N);
      const sites = new Map<string, QatSite>(qatSites(model).map((s) => [s.name, s]));
      const site = (torchName: string): QatSite => sites.get(SITE_NAMES[torchName]!)!;
      const traj = new Map<string, Float32Array[]>();
      const losses = new Float32Array(steps);
      // the 20 steps, recording what PyTorch recorded after each forward
      model.inputView().set(X);
      model.setTarget(y, N);
      for (let t = 0; t < steps; t++) {
        model.zeroGrad();
        model.forwardLoss(N);
        losses[t] = model.lossView[0]!;
        for (const k of Object.keys(SITE_NAMES)) {
          const s = site(k);
          for (const [what, v] of [['running_min', s.runningMin], ['running_max', s.runningMax], ['scale', s.scale], ['zero_point', s.zeroPoint]] as const) {
            const key = `trajectory.${k}.${what}`;
            traj.set(key, [...(traj.get(key) ?? []), v.slice()]);
          }
        }
        model.backward(N);
        model.optimizerStep();
      }

      it('has the five sites of the PyTorch model, in its order', () => {
        expect([...sites.keys()]).toEqual(Object.values(SITE_NAMES));
        expect(model.graph.nodes.filter((n) => n.op === Op.FakeQuant).length).toBe(5);
      });
      it('losses of the 20 QAT steps', () => {
        expectClose('losses', losses, f32(c.expected['losses']!), toleranceFor(c, 'losses'));
      });
      it('trajectory of every site: running min/max, scale, zero point after each forward', () => {
        for (const [key, rows] of traj) {
          const exp = key.endsWith('zero_point') ? ints(c.expected[key]!) : f32(c.expected[key]!);
          const got = new Float32Array(rows.length * rows[0]!.length);
          rows.forEach((r, t) => got.set(r, t * r.length));
          expectClose(key, got, exp, toleranceFor(c, key));
        }
      });
      it('final parameters and qparams', () => {
        for (const p of ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']) {
          expectClose(`final.${p}`, model.param(p), f32(c.expected[`final.${p}`]!), toleranceFor(c, `final.${p}`));
        }
        for (const k of Object.keys(SITE_NAMES)) {
          const s = site(k);
          expectClose(`${k}.scale`, s.scale, f32(c.expected[`${k}.scale`]!), toleranceFor(c, `${k}.scale`));
          expectClose(`${k}.zero_point`, s.zeroPoint, ints(c.expected[`${k}.zero_point`]!), toleranceFor(c, `${k}.zero_point`));
        }
      });
      it('eval and final train outputs with observers off (fake-quant on)', () => {
        setQatMode(model, { observe: false });
        expectClose('eval_output', model.run(Xe).slice(0, Ne * O), f32(c.expected['eval_output']!), toleranceFor(c, 'eval_output'));
        expectClose('train_output_final', model.run(X).slice(0, N * O), f32(c.expected['train_output_final']!), toleranceFor(c, 'train_output_final'));
      });
      it('converted int8 model: int8_engine_output, one step of the fake-quant model, 4x fewer weight bytes', () => {
        setQatMode(model, { observe: false });
        const fq = model.run(Xe).slice(0, Ne * O);
        const g8 = convertToInt8(model);
        expect(g8.nodes.filter((n) => n.op === Op.Int8Linear).length).toBe(2);
        const m8 = compile(g8, { maxBatch: Ne });
        const out = m8.run(Xe).slice(0, Ne * O);
        // the WebAssembly SIMD int8 product (+ JS requantization) and the JS kernel: bit-identical
        expect(m8.kernels).not.toBeNull();
        expect(Array.from(compile(g8, { maxBatch: Ne, kernels: 'js' }).run(Xe).slice(0, Ne * O))).toEqual(Array.from(out));
        expectClose('int8_engine_output', out, f32(c.expected['int8_engine_output']!), toleranceFor(c, 'int8_engine_output'));
        const step = site('fc2.activation_post_process').scale[0]!;
        // one output quantization step (outputs are multiples of it; + float32 rounding of (q - zp) * s)
        expectClose('int8 vs fake-quant', out, fq, { abs: step * (1 + 1e-6), rel: 0 });
        // weights: 1 byte instead of 4 (exactly 4x); biases stay 4-byte (int32 instead of float32)
        const f = weightBytes(model.graph), q = weightBytes(g8);
        expect(q.weights * 4).toBe(f.weights);
        expect(q.biases).toBe(f.biases);
        expect(m8.report.paramsBytes).toBe(0);
      });
    });
  }
});
