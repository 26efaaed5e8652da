// The fake-quant graph ops (runtime/ops/fake-quant-op.ts through the planner and executor):
//  - FakeQuant per tensor and per channel on a non-leading axis of a batched activation
//    ([B, C, L], axis 1) and on axis 0 of a weight: forward equals the kernels of
//    runtime/quant/ (observer + qparams + fake-quant) run by hand on the same batch, and the
//    naive twin fakeQuantOpForwardRef; exact (the same float32 operations);
//  - backward is the clipped STE: dx = dy where the code was not clipped, 0 elsewhere (exact);
//  - the schedule without replanning: fakeQuantFrom (identity before), freezeObserverAt (qparams
//    kept after), setQatMode (observers / fake-quant off), the step counter counting backward
//    passes; exact;
//  - LearnableFakeQuant (LSQ): forward, dx, dscale, dzero_point of a compiled model against
//    lsqForwardRef / lsqBackwardRef with PyTorch's grad_factor 1/sqrt(numel * qmax) (abs 1e-6:
//    the graph op and the twin sum the same float32 terms in the same order; 1e-6 covers the
//    double accumulator's final rounding).
import { describe, it, expect } from 'vitest';
import { GraphBuilder } from '../../../runtime/graph/builder.js';
import { compile } from '../../../runtime/model.js';
import { quantScheme, INT8_SYMMETRIC, UINT8_AFFINE } from '../../../runtime/quant/qparams.js';
import { observerReset, observerUpdate, OBSERVER_MINMAX } from '../../../runtime/quant/observers.js';
import { qparamsPerChannelInto } from '../../../runtime/quant/qparams.js';
import { fakeQuantForward } from '../../../runtime/quant/fake-quant.js';
import { lsqForwardRef, lsqBackwardRef, lsqGradFactor } from '../../../runtime/quant/learnable-fake-quant.js';
import { fakeQuantOpForwardRef } from '../../../runtime/ops/fake-quant-op.js';
import { qatMode, qatSites, setQatMode } from '../../../runtime/quant/qat.js';
import { Rng } from '../../../runtime/random.js';

const rnd = (n: number, seed: number, lo = -2, hi = 2): Float32Array => { const r = new Rng(seed); return Float32Array.from({ length: n }, () => r.uniform(lo, hi)); };

/** observer (min-max, 'observer' rule) + fake-quant of x viewed as (outer, C, inner), by hand */
function byHand(x: Float32Array, outer: number, C: number, inner: number, scheme = UINT8_AFFINE): { y: Float32Array; scale: Float32Array; zp: Float32Array } {
  const n = x.length, a = new Float32Array(2 * n + 4 * C);
  a.set(x);
  observerReset(a, 2 * n, C);
  observerUpdate(a, 2 * n, 0, outer, C, inner, OBSERVER_MINMAX, 0.01);
  qparamsPerChannelInto(a, 2 * n + 2 * C, 2 * n, C, scheme, 'observer');
  fakeQuantForward(a, n, 0, 2 * n + 2 * C, 2 * n + 3 * C, outer, C, inner, scheme.qmin, scheme.qmax);
  return { y: a.slice(n, 2 * n), scale: a.slice(2 * n + 2 * C, 2 * n + 3 * C), zp: a.slice(2 * n + 3 * C, 2 * n + 4 * C) };
}

describe('FakeQuant graph op', () => {
  const B = 5, C = 3, L = 4;
  const x = rnd(B * C * L, 1);
  it('per tensor and per channel (axis 1 of [B, C, L]): the kernels by hand and the naive twin', () => {
    for (const axis of [-1, 1]) {
      const b = new GraphBuilder();
      const i = b.input('x', [C, L]);
      b.output(b.fakeQuant(i, { scheme: UINT8_AFFINE, axis, observer: 'minmax', rule: 'observer' }, 'fq'));
      const m = compile(b.build(), { maxBatch: B });
      const y = m.run(x).slice();
      const h = axis < 0 ? byHand(x, 1, 1, x.length) : byHand(x, B, C, L);
      expect(Array.from(y)).toEqual(Array.from(h.y));
      const s = qatSites(m)[0]!;
      expect(Array.from(s.scale)).toEqual(Array.from(h.scale));
      expect(Array.from(s.zeroPoint)).toEqual(Array.from(h.zp));
      // naive twin on the same data
      const Cc = axis < 0 ? 1 : C, n = x.length;
      const a = new Float32Array(2 * n + 4 * Cc), ia = Int32Array.of(0, 1, 1, 0);
      a.set(x); observerReset(a, 2 * n, Cc);
      fakeQuantOpForwardRef(a, ia, n, 0, 2 * n, 0, axis < 0 ? 1 : B, Cc, axis < 0 ? n : L, OBSERVER_MINMAX, Float64Array.of(0.01),
        UINT8_AFFINE, 'observer', 'torch', 2147483647, 0);
      expect(Array.from(a.subarray(n, 2 * n))).toEqual(Array.from(y));
    }
  });

  it('weight per channel (axis 0) in a dense layer; backward is the clipped STE', () => {
    const b = new GraphBuilder();
    const i = b.input('x', [4]);
    const w = b.param('w', [3, 4], { data: rnd(12, 2, -1, 1) });
    const scheme = quantScheme({ bits: 3, signed: true });
    const wq = b.fakeQuant(w, { scheme, axis: 0, observer: 'minmax', rule: 'observer' }, 'wfq');
    // a second site on the input with a narrow fixed grid that clips: STE zeroes the clipped grads
    const xq = b.fakeQuant(i, { scheme: UINT8_AFFINE, scale: [0.01], zeroPoint: [100], freezeObserverAt: 0 }, 'xfq');
    b.output(b.denseWith(xq, wq, -1, 'd'));
    const m = compile(b.build(), { maxBatch: 2, loss: { kind: 'mse', reduction: 'sum' }, inputGrads: true });
    const xin = Float32Array.of(0.5, -0.3, 2, -2, 0.1, 0.2, 1.5, -1.5);
    m.inputView().set(xin);
    m.setTarget(new Float32Array(6), 2);
    m.forwardLoss(2);
    const wHand = byHand(m.param('w').slice(), 1, 3, 4, scheme);
    const s = qatSites(m);
    expect(Array.from(s[0]!.scale)).toEqual(Array.from(wHand.scale));
    m.backward(2);
    const gx = m.inputGrad();
    // codes: x / 0.01 + 100 outside [0, 255] clip: 2, -2, 1.5, -1.5 (>= 1.56 or < -1.0)
    for (let k = 0; k < xin.length; k++) {
      const code = Math.round(xin[k]! / 0.01) + 100;
      if (code < 0 || code > 255) expect(gx[k]).toBe(0);
      else expect(gx[k]).not.toBe(0);
    }
    // weight grad passes through where not clipped (3-bit symmetric, min-max: nothing clips)
    expect(Array.from(m.grad('w')).some((g) => g !== 0)).toBe(true);
  });

  it('schedule: fake-quant from step 2, observer frozen from step 3, setQatMode, step = backward passes', () => {
    const b = new GraphBuilder();
    const i = b.input('x', [6]);
    const q = b.fakeQuant(i, { scheme: INT8_SYMMETRIC, fakeQuantFrom: 2, freezeObserverAt: 3, observer: 'minmax', rule: 'observer' }, 'fq');
    b.output(b.dense(q, 2, { name: 'd' }));
    const m = compile(b.build(), { maxBatch: 1, loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr: 0 } });
    const site = qatSites(m)[0]!;
    const y0 = new Float32Array(2);
    const xs = [rnd(6, 3), rnd(6, 4, -5, 5), rnd(6, 5), rnd(6, 6, -9, 9), rnd(6, 7)];
    const scales: number[] = [];
    for (let t = 0; t < 5; t++) {
      m.trainStep(xs[t]!, y0, 1);
      scales.push(site.scale[0]!);
      expect(qatMode(m).step).toBe(t + 1);
    }
    // observing at steps 0..2: the range grows with the data; frozen from step 3 on
    expect(scales[3]).toBe(scales[2]);
    expect(scales[4]).toBe(scales[2]);
    expect(scales[1]).toBeGreaterThan(scales[0]!);
    setQatMode(m, { observe: true, step: 0 });
    m.trainStep(xs[3]!, y0, 1);
    expect(site.scale[0]).toBeGreaterThan(scales[2]!);
    setQatMode(m, { fakeQuant: false });
    expect(qatMode(m)).toEqual({ observe: true, fakeQuant: false, step: 1 });
  });
});

describe('LearnableFakeQuant graph op (LSQ)', () => {
  for (const [label, axis, scheme] of [['per tensor uint8', -1, UINT8_AFFINE], ['per channel int8', 1, INT8_SYMMETRIC]] as const) {
    it(`${label}: forward, dx, dscale, dzero_point against the reference twins`, () => {
      const B = 4, C = 3, L = 5, n = B * C * L;
      const x = rnd(n, 9, -3, 3), g = rnd(n, 10, -1, 1);
      const Cc = axis < 0 ? 1 : C;
      const scale = Float32Array.from({ length: Cc }, (_, c) => 0.02 + 0.005 * c), zp = Float32Array.from({ length: Cc }, (_, c) => (scheme.symmetric ? 0 : 120.3 + c));
      const b = new GraphBuilder();
      const i = b.input('x', [C, L]);
      const q = b.learnableFakeQuant(i, { scheme, axis, scale, zeroPoint: zp, freezeObserverAt: 0 }, 'lsq');
      b.output(q);
      // mse with reduction sum and target t = y - g / 2 makes dL/dy = 2 (y - t) = g
      const m = compile(b.build(), { maxBatch: B, loss: { kind: 'mse', reduction: 'sum' }, inputGrads: true });
      m.inputView().set(x);
      m.forward(B);
      const y = m.outputView().slice(0, n);
      // reference forward
      const X = 0, Y = n, DY = 2 * n, S = 3 * n, Z = S + Cc, DS = Z + Cc, DZ = DS + Cc, DX = DZ + Cc;
      const ar = new Float32Array(DX + n);
      ar.set(x, X); ar.set(scale, S); ar.set(zp, Z); ar.set(g, DY);
      const outer = axis < 0 ? 1 : B, inner = axis < 0 ? n : L;
      lsqForwardRef(ar, Y, X, S, Z, outer, Cc, inner, scheme.qmin, scheme.qmax);
      expect(Array.from(y)).toEqual(Array.from(ar.subarray(Y, Y + n)));
      const target = Float32Array.from(y, (v, k) => v - g[k]! / 2);
      m.setTarget(target, B);
      m.zeroGrad();
      m.forwardLoss(B);
      m.backward(B);
      lsqBackwardRef(ar, DX, DS, DZ, DY, X, S, Z, outer, Cc, inner, scheme.qmin, scheme.qmax, lsqGradFactor(n, scheme.qmax), axis < 0);
      const close = (got: Float32Array, want: Float32Array, what: string): void => {
        for (let k = 0; k < want.length; k++) expect(Math.abs(got[k]! - want[k]!), `${what}[${k}]`).toBeLessThanOrEqual(1e-6 + 1e-6 * Math.abs(want[k]!));
      };
      close(m.inputGrad().slice(0, n), ar.subarray(DX, DX + n), 'dx');
      close(m.grad('lsq.scale'), ar.subarray(DS, DS + Cc), 'dscale');
      if (!scheme.symmetric) close(m.grad('lsq.zero_point'), ar.subarray(DZ, DZ + Cc), 'dzero_point');
    });
  }
});
