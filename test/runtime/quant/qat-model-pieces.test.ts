// What the qat_model cases (QuantStub -> Linear -> ReLU -> Linear -> DeQuantStub, PyTorch QAT with
// FusedMovingAvgObsFakeQuantize) need from this library, checked piece by piece without the
// graph (training the 20 steps is the integrator's job):
//   1. step 0: every fake-quant site's running min/max, scale and zero point after the first
//      forward (trajectory.*[0]), from the initial weights through fake-quant + float dense;
//   2. the converted int8 weights (weight_int8, weight_fake_quant_output) from the final weights
//      and final qparams: exact (same float32 operations as torch);
//   3. eval_output: the fake-quant eval forward (observers off) with the final parameters;
//   4. int8_engine_output: our integer kernels (quantize, int8 dense + fused ReLU, fixed-point
//      requantization, dequantize) against PyTorch's converted model on the qnnpack engine.
// Tolerances are the cases' own: abs 1e-4 + rel 1e-3 for qparams/min/max (exact re-implementation
// agrees to ~1e-6; float32 summation order in the dense layers moves running stats slightly),
// exact for int8 codes, one output step for eval_output and two for int8_engine_output (the case
// states them: outputs are multiples of the output scale; the engine rounds its own way).
import { describe, it, expect } from 'vitest';
import { casesOfKind, loadCase, f32, ints, expectClose, toleranceFor, type RefCase } from '../../helpers/reference.js';
import { denseForward } from '../../../runtime/ops/dense.js';
import { quantScheme, type QScheme } from '../../../runtime/quant/qparams.js';
import {
  observerReset, observedFakeQuantForward, OBSERVER_MOVING_AVERAGE, QAT_OBSERVE, QAT_FAKE_QUANT,
} from '../../../runtime/quant/observers.js';
import { fakeQuantForward } from '../../../runtime/quant/fake-quant.js';
import { quantizeForward, dequantizeForward, int8DenseForward, prepareInt8Linear } from '../../../runtime/quant/int8.js';

interface SiteSpec { quant_min: number; quant_max: number; symmetric: boolean; ch_axis: number | null; averaging_constant: number }
const SITES = ['quant.activation_post_process', 'fc1.weight_fake_quant', 'fc1.activation_post_process',
  'fc2.weight_fake_quant', 'fc2.activation_post_process'] as const;
type Site = typeof SITES[number];

function schemeOf(s: SiteSpec): QScheme {
  return quantScheme({ signed: s.quant_min < 0, symmetric: s.symmetric, qmin: s.quant_min, qmax: s.quant_max });
}

/** Fake-quant site state in its own small arena: state (2C) | qp (2C). */
class SiteState {
  readonly a: Float32Array;
  constructor(readonly spec: SiteSpec, readonly C: number) {
    this.a = new Float32Array(4 * C);
    observerReset(this.a, 0, C);
  }
  /** y = fake-quant(x) of n values (rows of C*inner when per channel), observing when asked. */
  run(x: Float32Array, observe: boolean): Float32Array {
    const n = x.length, inner = n / this.C;
    const w = new Float32Array(2 * n + 4 * this.C);
    w.set(x, 0); w.set(this.a, 2 * n);
    observedFakeQuantForward(w, n, 0, 2 * n, 2 * n + 2 * this.C, 1, this.C, inner,
      (observe ? QAT_OBSERVE : 0) | QAT_FAKE_QUANT, OBSERVER_MOVING_AVERAGE, this.spec.averaging_constant, schemeOf(this.spec), 'fused');
    this.a.set(w.subarray(2 * n));
    return w.slice(n, 2 * n);
  }
}

function dense(x: Float32Array, w: Float32Array, b: Float32Array, B: number, I: number, O: number): Float32Array {
  const a = new Float32Array(B * I + O * I + O + B * O);
  a.set(x, 0); a.set(w, B * I); a.set(b, B * I + O * I);
  denseForward(a, B * I + O * I + O, 0, B * I, B * I + O * I, B, I, O);
  return a.slice(B * I + O * I + O);
}
const relu = (v: Float32Array): Float32Array => v.map((t) => (t > 0 ? t : 0));

function forward(c: RefCase, sites: Record<Site, SiteState>, X: Float32Array, W1: Float32Array, b1: Float32Array,
                 W2: Float32Array, b2: Float32Array, observe: boolean): Float32Array {
  const [I, H, O] = c.params['layer_sizes'] as [number, number, number];
  const B = X.length / I;
  const fused = c.params['fused_linear_relu'] === true;
  const x = sites['quant.activation_post_process'].run(X, observe);
  let h = dense(x, sites['fc1.weight_fake_quant'].run(W1, observe), b1, B, I, H);
  h = fused ? sites['fc1.activation_post_process'].run(relu(h), observe) : relu(sites['fc1.activation_post_process'].run(h, observe));
  const o = dense(h, sites['fc2.weight_fake_quant'].run(W2, observe), b2, B, H, O);
  return sites['fc2.activation_post_process'].run(o, observe);
}

function makeSites(c: RefCase): Record<Site, SiteState> {
  const specs = c.params['fake_quant_modules'] as Record<Site, SiteSpec>;
  const [, H, O] = c.params['layer_sizes'] as [number, number, number];
  const channels = (s: Site): number => specs[s].ch_axis === null ? 1 : s.startsWith('fc1') ? H : O;
  const r = {} as Record<Site, SiteState>;
  for (const s of SITES) r[s] = new SiteState(specs[s], channels(s));
  return r;
}

/** Loads final qparams (expected.<site>.scale / zero_point) into a site, frozen. */
function loadFinal(c: RefCase, site: SiteState, name: Site): void {
  site.a.set(f32(c.expected[`${name}.scale`]!), 2 * site.C);
  site.a.set(ints(c.expected[`${name}.zero_point`]!), 3 * site.C);
}

const qatCases = casesOfKind('qat_model');

describe('qat_model cases: pieces this library provides', () => {
  it('has cases', () => expect(qatCases.length).toBeGreaterThanOrEqual(3));
  for (const name of qatCases) {
    describe(name, () => {
      const c = loadCase(name);
      const inp = (k: string): Float32Array => f32(c.inputs[k]!);
      it('step 0: running min/max, scale, zero point of every fake-quant site', () => {
        const sites = makeSites(c);
        forward(c, sites, inp('X'), inp('init.fc1.weight'), inp('init.fc1.bias'), inp('init.fc2.weight'), inp('init.fc2.bias'), true);
        for (const s of SITES) {
          const C = sites[s].C, a = sites[s].a;
          for (const [k, from] of [['running_min', 0], ['running_max', C], ['scale', 2 * C], ['zero_point', 3 * C]] as const) {
            const key = `trajectory.${s}.${k}`;
            const exp = k === 'zero_point' ? ints(c.expected[key]!) : f32(c.expected[key]!);
            expectClose(`${s}.${k}[0]`, a.subarray(from, from + C), exp.subarray(0, C), toleranceFor(c, key));
          }
        }
      });
      it('int8 weights and their fake-quant output from the final weights and qparams (exact)', () => {
        for (const layer of ['fc1', 'fc2']) {
          const w = f32(c.expected[`final.${layer}.weight`]!), [O, I] = c.expected[`final.${layer}.weight`]!.shape as [number, number];
          const s = f32(c.expected[`${layer}.weight_fake_quant.scale`]!), z = ints(c.expected[`${layer}.weight_fake_quant.zero_point`]!);
          const C = s.length, a = new Float32Array(2 * O * I + 2 * C);
          a.set(w, 0); a.set(s, 2 * O * I); a.set(z, 2 * O * I + C);
          const q = new Int8Array(O * I);
          quantizeForward(q, 0, a, 0, 2 * O * I, 2 * O * I + C, 1, C, (O * I) / C, -128, 127);
          expectClose(`${layer}.weight_int8`, q, ints(c.expected[`${layer}.weight_int8`]!), { abs: 0, rel: 0 });
          fakeQuantForward(a, O * I, 0, 2 * O * I, 2 * O * I + C, 1, C, (O * I) / C, -128, 127);
          expectClose(`${layer}.weight_fake_quant_output`, a.subarray(O * I, 2 * O * I), f32(c.expected[`${layer}.weight_fake_quant_output`]!), { abs: 0, rel: 0 });
        }
      });
      it('eval_output: fake-quant forward with observers off and the final parameters', () => {
        const sites = makeSites(c);
        for (const s of SITES) loadFinal(c, sites[s], s);
        const y = forward(c, sites, inp('X_eval'), f32(c.expected['final.fc1.weight']!), f32(c.expected['final.fc1.bias']!),
          f32(c.expected['final.fc2.weight']!), f32(c.expected['final.fc2.bias']!), false);
        expectClose('eval_output', y, f32(c.expected['eval_output']!), toleranceFor(c, 'eval_output'));
      });
      it('int8_engine_output: integer kernels vs the converted PyTorch model', () => {
        const specs = c.params['fake_quant_modules'] as Record<Site, SiteSpec>;
        const [I, H, O] = c.params['layer_sizes'] as [number, number, number];
        const X = inp('X_eval'), B = X.length / I;
        const q = (s: Site): { scale: number; zp: number } =>
          ({ scale: f32(c.expected[`${s}.scale`]!)[0]!, zp: ints(c.expected[`${s}.zero_point`]!)[0]! });
        const qin = q('quant.activation_post_process'), q1 = q('fc1.activation_post_process'), q2 = q('fc2.activation_post_process');
        // NOTE: quint8 tensors of the converted model saturate to 0..255 (the type), not to the
        // observer's reduce_range 0..127 that fake-quant used
        const layer = (l: 'fc1' | 'fc2', sin: { scale: number; zp: number }, sout: { scale: number; zp: number }, relu1: boolean) =>
          prepareInt8Linear({ weight: f32(c.expected[`final.${l}.weight`]!), O: l === 'fc1' ? H : O, bias: f32(c.expected[`final.${l}.bias`]!),
            weightScale: f32(c.expected[`${l}.weight_fake_quant.scale`]!), weightZero: ints(c.expected[`${l}.weight_fake_quant.zero_point`]!),
            inputScale: sin.scale, inputZero: sin.zp, outputScale: sout.scale, outputZero: sout.zp, outputQmin: 0, outputQmax: 255, relu: relu1 });
        expect(specs['fc1.weight_fake_quant'].quant_min).toBe(-128);
        const p1 = layer('fc1', qin, q1, true), p2 = layer('fc2', q1, q2, false);
        const i32 = (p: ReturnType<typeof prepareInt8Linear>, n: number): Int32Array => {
          const r = new Int32Array(4 * n); r.set(p.bias!, 0); r.set(p.weightZero, n); r.set(p.multiplier, 2 * n); r.set(p.shift, 3 * n); return r;
        };
        const a = new Float32Array(B * I + B * O + 4);
        a.set(X, 0); a[B * I + B * O] = qin.scale; a[B * I + B * O + 1] = qin.zp; a[B * I + B * O + 2] = q2.scale; a[B * I + B * O + 3] = q2.zp;
        const xq = new Uint8Array(B * I), hq = new Uint8Array(B * H), oq = new Uint8Array(B * O);
        quantizeForward(xq, 0, a, 0, B * I + B * O, B * I + B * O + 1, 1, 1, B * I, 0, 255);
        int8DenseForward(hq, 0, xq, 0, p1.weight, 0, i32(p1, H), 0, H, 2 * H, 3 * H, qin.zp, q1.zp, p1.actMin, p1.actMax, B, I, H);
        int8DenseForward(oq, 0, hq, 0, p2.weight, 0, i32(p2, O), 0, O, 2 * O, 3 * O, q1.zp, q2.zp, p2.actMin, p2.actMax, B, H, O);
        dequantizeForward(a, B * I, oq, 0, B * I + B * O + 2, B * I + B * O + 3, 1, 1, B * O);
        expectClose('int8_engine_output', a.subarray(B * I, B * I + B * O), f32(c.expected['int8_engine_output']!), toleranceFor(c, 'int8_engine_output'));
      });
    });
  }
});
