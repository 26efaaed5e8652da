// Every `fake_quant` reference case (fake_quant_* and observer_*, PyTorch 1.13 CPU), dispatched
// by the case's name family and driven by its params, so unseen cases with other shapes/values
// run the same code. Tolerances are each case's own (toleranceFor): abs 1e-6 for fake-quant
// outputs and STE gradients (float32 results computed the same way), rel 1e-6 for observer
// min/max/scale, 1e-5/1e-4 for LSQ dscale/dzero_point (PyTorch sums float32 terms in another
// order); integer codes, masks and zero points are compared exactly.
import { describe, it, expect } from 'vitest';
import { casesOfKind, loadCase, f32, ints, expectClose, toleranceFor, type RefCase, type RefTensor } from '../../helpers/reference.js';
import { fakeQuantForward, fakeQuantBackward, fakeQuantCode } from '../../../runtime/quant/fake-quant.js';
import { lsqForward, lsqPerTensorBackward, lsqPerChannelBackward } from '../../../runtime/quant/learnable-fake-quant.js';
import {
  observerReset, observerUpdate, observerQParams, observedFakeQuantForward, observedFakeQuantBackward,
  OBSERVER_MINMAX, OBSERVER_MOVING_AVERAGE, QAT_OBSERVE, QAT_FAKE_QUANT,
} from '../../../runtime/quant/observers.js';
import { quantScheme, channelView, type QScheme } from '../../../runtime/quant/qparams.js';

const names = casesOfKind('fake_quant');

/** A bump allocator over a fresh Float32Array, sized generously for one case. */
function arena(n: number): { a: Float32Array; take: (k: number) => number } {
  const a = new Float32Array(n);
  let top = 0;
  return { a, take: (k: number) => { const o = top; top += k; if (top > n) throw new Error('test arena full'); return o; } };
}
const num = (c: RefCase, k: string): number => c.params[k] as number;
const exact = { abs: 0, rel: 0 };

function slice(a: Float32Array, at: number, n: number): Float32Array { return a.slice(at, at + n); }

function runFakeQuant(c: RefCase, perChannel: boolean): void {
  const xT: RefTensor = perChannel ? c.inputs['w']! : c.inputs['x']!;
  const x = f32(xT), g = f32(c.inputs['g']!), n = x.length;
  const qmin = num(c, 'quant_min'), qmax = num(c, 'quant_max');
  const { outer, C, inner } = perChannel ? channelView(xT.shape, num(c, 'axis')) : { outer: 1, C: 1, inner: n };
  const { a, take } = arena(6 * n + 4 * C);
  const X = take(n), Y = take(n), G = take(n), DX = take(n), S = take(C), Z = take(C);
  a.set(x, X); a.set(g, G);
  if (perChannel) { a.set(f32(c.inputs['scale']!), S); a.set(ints(c.inputs['zero_point']!), Z); }
  else { a[S] = num(c, 'scale'); a[Z] = num(c, 'zero_point'); }
  fakeQuantForward(a, Y, X, S, Z, outer, C, inner, qmin, qmax);
  fakeQuantBackward(a, DX, G, X, S, Z, outer, C, inner, qmin, qmax);
  const dxKey = perChannel ? 'dw' : 'dx';
  expectClose('y', slice(a, Y, n), f32(c.expected['y']!), toleranceFor(c, 'y'));
  expectClose(dxKey, slice(a, DX, n), f32(c.expected[dxKey]!), toleranceFor(c, dxKey));
  // codes and mask from the documented definition, per element
  const q = new Float64Array(n), mask = new Float64Array(n), qOnnx = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const ch = Math.floor(k / inner) % C;
    const code = fakeQuantCode(x[k]!, a[S + ch]!, a[Z + ch]!);
    q[k] = Math.min(Math.max(code, qmin), qmax);
    mask[k] = code >= qmin && code <= qmax ? 1 : 0;
    qOnnx[k] = Math.min(Math.max(fakeQuantCode(x[k]!, a[S + ch]!, a[Z + ch]!, 'onnx'), qmin), qmax);
  }
  expectClose('q', q, ints(c.expected['q']!), exact);
  expectClose('mask', mask, ints(c.expected['mask']!), exact);
  // ONNX divides instead: identical codes except where the case marks rounding sensitivity
  const sens = c['rounding_sensitive'] as RefTensor | undefined;
  if (sens !== undefined) {
    const s = ints(sens);
    for (let k = 0; k < n; k++) {
      if (s[k] === 0) expect(qOnnx[k], `onnx code at ${k}`).toBe(q[k]);
      else expect(Math.abs(qOnnx[k]! - q[k]!)).toBeLessThanOrEqual(1);
    }
  }
}

function runLearnable(c: RefCase, perChannel: boolean): void {
  const xT: RefTensor = perChannel ? c.inputs['w']! : c.inputs['x']!;
  const x = f32(xT), g = f32(c.inputs['g']!), n = x.length;
  const qmin = num(c, 'quant_min'), qmax = num(c, 'quant_max'), gf = num(c, 'grad_factor');
  const { outer, C, inner } = perChannel ? channelView(xT.shape, num(c, 'axis')) : { outer: 1, C: 1, inner: n };
  const { a, take } = arena(8 * n + 8 * C);
  const X = take(n), Y = take(n), G = take(n), DX = take(n), S = take(C), Z = take(C), DS = take(C), DZ = take(C);
  const ONES = take(n), MASK = take(n);
  a.set(x, X); a.set(g, G); a.set(f32(c.inputs['scale']!), S); a.set(f32(c.inputs['zero_point']!), Z);
  lsqForward(a, Y, X, S, Z, outer, C, inner, qmin, qmax);
  if (perChannel) lsqPerChannelBackward(a, DX, DS, DZ, G, X, S, Z, outer, C, inner, qmin, qmax, gf);
  else lsqPerTensorBackward(a, DX, DS, DZ, G, X, S, Z, n, qmin, qmax, gf);
  const dxKey = perChannel ? 'dw' : 'dx';
  expectClose('y', slice(a, Y, n), f32(c.expected['y']!), toleranceFor(c, 'y'));
  expectClose(dxKey, slice(a, DX, n), f32(c.expected[dxKey]!), toleranceFor(c, dxKey));
  expectClose('dscale', slice(a, DS, C), f32(c.expected['dscale']!), toleranceFor(c, 'dscale'));
  expectClose('dzero_point', slice(a, DZ, C), f32(c.expected['dzero_point']!), toleranceFor(c, 'dzero_point'));
  if (!perChannel) {
    // the backward's pass-through mask (q' computed with zp added before rounding)
    a.fill(1, ONES, ONES + n);
    lsqPerTensorBackward(a, MASK, -1, -1, ONES, X, S, Z, n, qmin, qmax, gf);
    expectClose('mask_backward', slice(a, MASK, n), ints(c.expected['mask_backward']!), exact);
    const zpf = Math.min(Math.max(Math.round(a[Z]!), qmin), qmax);
    if (c.params['zero_point_rounded'] !== undefined) expect(zpf).toBe(num(c, 'zero_point_rounded'));
    const qf = new Float64Array(n);
    for (let k = 0; k < n; k++) qf[k] = Math.round(a[Y + k]! / a[S]!) + zpf;
    expectClose('q_forward', qf, ints(c.expected['q_forward']!), exact);
  }
}

interface ObserverDesc { kind: 0 | 1; averaging: number; scheme: QScheme; perChannel: boolean; axis: number }

/** Parses "MovingAverageMinMaxObserver(averaging_constant=0.01, dtype=torch.quint8, ...)". */
function parseObserver(c: RefCase): ObserverDesc {
  const s = c.params['observer'] as string;
  const kind = /^MovingAverage/.test(s) ? OBSERVER_MOVING_AVERAGE : OBSERVER_MINMAX;
  const avg = /averaging_constant=([0-9.eE+-]+)/.exec(s);
  const signed = /dtype=torch\.qint8/.test(s);
  const symmetric = /_symmetric/.test(s);
  const qmin = /quant_min=(-?\d+)/.exec(s), qmax = /quant_max=(-?\d+)/.exec(s);
  const scheme = quantScheme({
    signed, symmetric, reduceRange: /reduce_range=True/.test(s), eps: num(c, 'eps'),
    ...(qmin !== null ? { qmin: Number(qmin[1]) } : {}), ...(qmax !== null ? { qmax: Number(qmax[1]) } : {}),
  });
  return { kind, averaging: avg !== null ? Number(avg[1]) : 0.01, scheme, perChannel: c.params['per_channel'] === true,
    axis: (c.params['ch_axis'] as number | null) ?? 0 };
}

function batchView(c: RefCase, perChannel: boolean, axis: number): { T: number; n: number; outer: number; C: number; inner: number } {
  const shape = c.inputs['batches']!.shape;
  const dims = shape.slice(1), n = dims.reduce((p, d) => p * d, 1);
  const v = perChannel ? channelView(dims, axis) : { outer: 1, C: 1, inner: n };
  return { T: shape[0]!, n, ...v };
}

function runObserver(c: RefCase): void {
  const d = parseObserver(c);
  expect(d.scheme.qmin).toBe(num(c, 'quant_min'));
  expect(d.scheme.qmax).toBe(num(c, 'quant_max'));
  const { T, n, outer, C, inner } = batchView(c, d.perChannel, d.axis);
  const batches = f32(c.inputs['batches']!);
  const { a, take } = arena(n + 4 * C);
  const X = take(n), ST = take(2 * C), QP = take(2 * C);
  observerReset(a, ST, C);
  const mins = new Float32Array(T * C), maxs = new Float32Array(T * C), sc = new Float32Array(T * C), zp = new Float64Array(T * C);
  for (let t = 0; t < T; t++) {
    a.set(batches.subarray(t * n, (t + 1) * n), X);
    observerUpdate(a, ST, X, outer, C, inner, d.kind, d.averaging);
    observerQParams(a, QP, ST, C, d.scheme, 'observer');
    mins.set(a.subarray(ST, ST + C), t * C); maxs.set(a.subarray(ST + C, ST + 2 * C), t * C);
    sc.set(a.subarray(QP, QP + C), t * C); zp.set(a.subarray(QP + C, QP + 2 * C), t * C);
  }
  expectClose('min_val', mins, f32(c.expected['min_val']!), toleranceFor(c, 'min_val'));
  expectClose('max_val', maxs, f32(c.expected['max_val']!), toleranceFor(c, 'max_val'));
  expectClose('scale', sc, f32(c.expected['scale']!), toleranceFor(c, 'scale'));
  expectClose('zero_point', zp, ints(c.expected['zero_point']!), toleranceFor(c, 'zero_point'));
}

function runFused(c: RefCase): void {
  const perChannel = c.params['per_channel'] === true;
  const qmin = num(c, 'quant_min'), qmax = num(c, 'quant_max');
  // the fused modules pass quant_min/quant_max explicitly (a custom range in PyTorch's terms)
  const scheme = quantScheme({ signed: qmin < 0, symmetric: c.params['symmetric'] === true, qmin, qmax });
  const { T, n, outer, C, inner } = batchView(c, perChannel, (c.params['ch_axis'] as number | null) ?? 0);
  const batches = f32(c.inputs['batches']!), gs = f32(c.inputs['g']!);
  const { a, take } = arena(4 * n + 6 * C);
  const X = take(n), Y = take(n), G = take(n), DX = take(n), ST = take(2 * C), QP = take(2 * C), QPY = take(2 * C);
  observerReset(a, ST, C);
  const flags = QAT_OBSERVE | QAT_FAKE_QUANT;
  const out = { rmin: new Float32Array(T * C), rmax: new Float32Array(T * C), scale: new Float32Array(T * C),
    zp: new Float64Array(T * C), y: new Float32Array(T * n), dx: new Float32Array(T * n),
    pyScale: new Float32Array(T * C), pyZp: new Float64Array(T * C) };
  for (let t = 0; t < T; t++) {
    a.set(batches.subarray(t * n, (t + 1) * n), X);
    a.set(gs.subarray(t * n, (t + 1) * n), G);
    a.fill(0, DX, DX + n);
    observedFakeQuantForward(a, Y, X, ST, QP, outer, C, inner, flags, OBSERVER_MOVING_AVERAGE,
      num(c, 'averaging_constant'), scheme, 'fused');
    observedFakeQuantBackward(a, DX, G, X, QP, outer, C, inner, flags, qmin, qmax);
    observerQParams(a, QPY, ST, C, scheme, 'observer');
    out.rmin.set(a.subarray(ST, ST + C), t * C); out.rmax.set(a.subarray(ST + C, ST + 2 * C), t * C);
    out.scale.set(a.subarray(QP, QP + C), t * C); out.zp.set(a.subarray(QP + C, QP + 2 * C), t * C);
    out.y.set(a.subarray(Y, Y + n), t * n); out.dx.set(a.subarray(DX, DX + n), t * n);
    out.pyScale.set(a.subarray(QPY, QPY + C), t * C); out.pyZp.set(a.subarray(QPY + C, QPY + 2 * C), t * C);
  }
  const e = c.expected;
  expectClose('running_min', out.rmin, f32(e['running_min']!), toleranceFor(c, 'running_min'));
  expectClose('running_max', out.rmax, f32(e['running_max']!), toleranceFor(c, 'running_max'));
  expectClose('scale', out.scale, f32(e['scale']!), toleranceFor(c, 'scale'));
  expectClose('zero_point', out.zp, ints(e['zero_point']!), toleranceFor(c, 'zero_point'));
  expectClose('y', out.y, f32(e['y']!), toleranceFor(c, 'y'));
  expectClose('dx', out.dx, f32(e['dx']!), toleranceFor(c, 'dx'));
  expectClose('scale_python_observer', out.pyScale, f32(e['scale_python_observer']!), toleranceFor(c, 'scale_python_observer'));
  expectClose('zero_point_python_observer', out.pyZp, ints(e['zero_point_python_observer']!), toleranceFor(c, 'zero_point_python_observer'));
}

describe('fake_quant reference cases (PyTorch 1.13)', () => {
  it('has the cases', () => expect(names.length).toBeGreaterThanOrEqual(22));
  for (const name of names) {
    it(name, () => {
      const c = loadCase(name);
      if (name.startsWith('fake_quant_learnable_per_tensor')) runLearnable(c, false);
      else if (name.startsWith('fake_quant_learnable_per_channel')) runLearnable(c, true);
      else if (name.startsWith('fake_quant_per_tensor')) runFakeQuant(c, false);
      else if (name.startsWith('fake_quant_per_channel')) runFakeQuant(c, true);
      else if (name.startsWith('observer_fused')) runFused(c);
      else if (name.startsWith('observer_')) runObserver(c);
      else throw new Error(`no runner for case family of ${name}`);
    });
  }
});
