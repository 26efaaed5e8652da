// qparams.ts and observers.ts: scheme ranges (bit widths, narrow, reduce_range) and their errors,
// the two qparams rules on hand-computed cases (exact: each is a few float32/double operations
// written out here independently), observers vs their naive twin (exact), the QAT flags.
import { describe, it, expect } from 'vitest';
import { Rng } from '../../../runtime/random.js';
import { expectClose } from '../../helpers/reference.js';
import {
  quantScheme, chooseQParams, chooseQParamsPerChannel, channelView, INT8_SYMMETRIC, INT8_NARROW_SYMMETRIC, UINT8_AFFINE,
  FLOAT32_EPS, SMALL_SCALE_THRESHOLD,
} from '../../../runtime/quant/qparams.js';
import {
  observerReset, observerUpdate, observerUpdateRef, observerQParams, observedFakeQuantForward, observedFakeQuantBackward,
  qatFlags, OBSERVER_MINMAX, OBSERVER_MOVING_AVERAGE, QAT_OBSERVE, QAT_FAKE_QUANT,
} from '../../../runtime/quant/observers.js';
import { EdgennError } from '../../../runtime/errors.js';

const exact = { abs: 0, rel: 0 };
const f = Math.fround;

describe('schemes', () => {
  it('bit widths 2..8, signed and unsigned, narrow and reduce_range', () => {
    for (let b = 2; b <= 8; b++) {
      expect(quantScheme({ bits: b })).toMatchObject({ qmin: -(2 ** (b - 1)), qmax: 2 ** (b - 1) - 1, symmetric: true });
      expect(quantScheme({ bits: b, signed: false })).toMatchObject({ qmin: 0, qmax: 2 ** b - 1, symmetric: false });
      expect(quantScheme({ bits: b, narrow: true })).toMatchObject({ qmin: -(2 ** (b - 1)) + 1, qmax: 2 ** (b - 1) - 1 });
    }
    expect(INT8_NARROW_SYMMETRIC).toMatchObject({ qmin: -127, qmax: 127, symmetricZeroPoint: 0 });
    expect(quantScheme({ reduceRange: true })).toMatchObject({ qmin: -64, qmax: 63 });
    expect(quantScheme({ signed: false, reduceRange: true })).toMatchObject({ qmin: 0, qmax: 127 });
    expect(quantScheme({ signed: false, qmin: 0, qmax: 15 })).toMatchObject({ qmin: 0, qmax: 15 });
  });
  it('symmetric zero points as PyTorch: 0 signed, 128 quint8, midpoint of a custom uint range', () => {
    expect(quantScheme({ signed: false, symmetric: true }).symmetricZeroPoint).toBe(128);
    expect(quantScheme({ signed: false, symmetric: true, qmin: 0, qmax: 255 }).symmetricZeroPoint).toBe(127);
    expect(quantScheme({ signed: false, symmetric: true, bits: 4 }).symmetricZeroPoint).toBe(7);
    expect(INT8_SYMMETRIC.symmetricZeroPoint).toBe(0);
  });
  it('refuses impossible ranges with EdgennError ARG', () => {
    for (const o of [{ bits: 1 }, { bits: 9 }, { bits: 4.5 }, { signed: false, narrow: true }, { qmin: 3, qmax: 3 },
      { qmin: -129 }, { signed: false, qmax: 256 }, { eps: 0 }]) {
      let err: unknown = null;
      try { quantScheme(o); } catch (e) { err = e; }
      expect(err, JSON.stringify(o)).toBeInstanceOf(EdgennError);
      expect((err as EdgennError).code).toBe('ARG');
    }
  });
  it('channelView splits any axis', () => {
    expect(channelView([2, 3, 4], 0)).toEqual({ outer: 1, C: 2, inner: 12 });
    expect(channelView([2, 3, 4], 1)).toEqual({ outer: 2, C: 3, inner: 4 });
    expect(channelView([2, 3, 4], -1)).toEqual({ outer: 6, C: 4, inner: 1 });
    expect(() => channelView([2, 3], 2)).toThrow(EdgennError);
  });
});

describe("'observer' rule (observer.py _calculate_qparams)", () => {
  it('symmetric int8: amax / 127.5, zero point 0', () => {
    expect(chooseQParams(-2.3164093, 5.4798417, INT8_SYMMETRIC)).toEqual({ scale: f(f(5.4798417) / 127.5), zeroPoint: 0 });
  });
  it('affine uint8: (max - min) / 255 and qmin - round(min / scale)', () => {
    const s = f(f(f(4.5) - f(-1.25)) / 255);
    expect(chooseQParams(-1.25, 4.5, UINT8_AFFINE)).toEqual({ scale: s, zeroPoint: -Math.round(f(f(-1.25) / s)) });
  });
  it('the range is widened to include 0; eps floors the scale', () => {
    expect(chooseQParams(0.5, 2, UINT8_AFFINE)).toEqual({ scale: f(2 / 255), zeroPoint: 0 });
    expect(chooseQParams(0, 0, UINT8_AFFINE)).toEqual({ scale: f(FLOAT32_EPS), zeroPoint: 0 });
    expect(chooseQParams(0, 0, INT8_SYMMETRIC)).toEqual({ scale: f(FLOAT32_EPS), zeroPoint: 0 });
    expect(chooseQParams(-3, -1, UINT8_AFFINE).zeroPoint).toBe(255);
  });
  it('nothing observed (+inf, -inf): scale 1, zero point 0', () => {
    expect(chooseQParams(Infinity, -Infinity, UINT8_AFFINE)).toEqual({ scale: 1, zeroPoint: 0 });
  });
  it('per channel', () => {
    const r = chooseQParamsPerChannel([-1, -0.5], [0.5, 2], INT8_SYMMETRIC);
    expect(Array.from(r.scale)).toEqual([f(1 / 127.5), f(2 / 127.5)]);
    expect(Array.from(r.zeroPoint)).toEqual([0, 0]);
  });
});

describe("'fused' rule (C++ ChooseQuantizationParams)", () => {
  it('symmetric int8: scale = max(|min|/128, |max|/127), zero point 0', () => {
    const lo = f(-2.3), hi = f(2.4);
    const sp = Math.max(Math.abs(f(lo / -128)), Math.abs(f(hi / 127)));
    const expected = f((f(sp * 127) - f(sp * -128)) / 255);
    expect(chooseQParams(lo, hi, INT8_SYMMETRIC, 'fused')).toEqual({ scale: expected, zeroPoint: 0 });
    expect(chooseQParams(lo, hi, INT8_SYMMETRIC, 'observer').scale).not.toBe(expected);
  });
  it('symmetric uint8: zero point nearbyint(127.5) = 128; narrow int8 (-127..127): 0', () => {
    expect(chooseQParams(-1, 1, quantScheme({ signed: false, symmetric: true }), 'fused').zeroPoint).toBe(128);
    expect(chooseQParams(-1, 1, INT8_NARROW_SYMMETRIC, 'fused').zeroPoint).toBe(0);
  });
  it('zero range: 0.1; tiny range: raised to 6.1e-5', () => {
    expect(chooseQParams(0, 0, UINT8_AFFINE, 'fused')).toEqual({ scale: f(0.1), zeroPoint: 0 });
    expect(chooseQParams(0, 1e-6, UINT8_AFFINE, 'fused')).toEqual({ scale: SMALL_SCALE_THRESHOLD, zeroPoint: 0 });
  });
  it('affine: zero point from the end with the smaller error', () => {
    // min -1, max 3, 0..255: scale = 4/255; from min: 0 + 63.75 = 63.75 (error 0 - 63.75 < 255 - 191.25)
    expect(chooseQParams(-1, 3, UINT8_AFFINE, 'fused')).toEqual({ scale: f(4 / 255), zeroPoint: 64 });
  });
});

describe('observers', () => {
  const rng = new Rng(4);
  for (const kind of [OBSERVER_MINMAX, OBSERVER_MOVING_AVERAGE] as const) {
    for (const axis of [0, 1, 2]) {
      it(`${kind === OBSERVER_MINMAX ? 'min-max' : 'moving average'} axis ${axis}: fast vs twin over 4 batches`, () => {
        const shape = [3, 4, 5];
        const { outer, C, inner } = channelView(shape, axis);
        const n = outer * C * inner;
        const a = new Float32Array(n + 4 * C);
        observerReset(a, n, C);
        const r = a.slice();
        for (let t = 0; t < 4; t++) {
          for (let i = 0; i < n; i++) a[i] = r[i] = rng.normal() * (t + 1) + t;
          observerUpdate(a, n, 0, outer, C, inner, kind, 0.01);
          observerUpdateRef(r, n, 0, outer, C, inner, kind, 0.01);
          expectClose(`state after batch ${t}`, a.subarray(n, n + 2 * C), r.subarray(n, n + 2 * C), exact);
        }
        observerQParams(a, n + 2 * C, n, C, INT8_SYMMETRIC, 'observer');
        for (let c = 0; c < C; c++) {
          expect(a[n + 2 * C + c]).toBe(chooseQParams(a[n + c]!, a[n + C + c]!, INT8_SYMMETRIC).scale);
        }
      });
    }
  }
  it('moving average: the first batch initialises, the next one moves by c', () => {
    const a = new Float32Array([-1, 3, 0, 0]);
    observerReset(a, 2, 1);
    observerUpdate(a, 2, 0, 1, 1, 2, OBSERVER_MOVING_AVERAGE, 0.5);
    expect(Array.from(a.subarray(2))).toEqual([-1, 3]);
    a[0] = -3; a[1] = 1;
    observerUpdate(a, 2, 0, 1, 1, 2, OBSERVER_MOVING_AVERAGE, 0.5);
    expect(Array.from(a.subarray(2))).toEqual([-2, 2]);
  });
  it('NaN in a batch makes min and max NaN', () => {
    const a = new Float32Array([1, NaN, 2, 0, 0]);
    observerReset(a, 3, 1);
    observerUpdate(a, 3, 0, 1, 1, 3, OBSERVER_MINMAX, 0);
    expect(Number.isNaN(a[3]!) && Number.isNaN(a[4]!)).toBe(true);
  });
});

describe('QAT flags and the observed fake-quant site', () => {
  it('qatFlags follows the schedule', () => {
    const s = { freezeObserverAt: 3, fakeQuantFrom: 1 };
    expect([0, 1, 2, 3, 4].map((t) => qatFlags(t, s))).toEqual([1, 3, 3, 2, 2]);
    expect(qatFlags(0, { observe: false })).toBe(QAT_FAKE_QUANT);
    expect(qatFlags(5, { fakeQuant: false })).toBe(QAT_OBSERVE);
  });
  it('frozen observer keeps state and qparams; fake-quant off passes x and the whole gradient', () => {
    const n = 6;
    const a = new Float32Array(4 * n + 4);
    const X = 0, Y = n, G = 2 * n, DX = 3 * n, ST = 4 * n, QP = 4 * n + 2;
    a.set([-1, -0.5, 0, 0.25, 0.5, 2], X); a.fill(1, G, G + n);
    observerReset(a, ST, 1);
    observedFakeQuantForward(a, Y, X, ST, QP, 1, 1, n, QAT_OBSERVE | QAT_FAKE_QUANT, OBSERVER_MOVING_AVERAGE, 0.01, UINT8_AFFINE, 'fused');
    const frozen = a.slice(ST, ST + 4);
    a.set([-10, 0, 0, 0, 0, 10], X);
    observedFakeQuantForward(a, Y, X, ST, QP, 1, 1, n, QAT_FAKE_QUANT, OBSERVER_MOVING_AVERAGE, 0.01, UINT8_AFFINE, 'fused');
    expect(Array.from(a.subarray(ST, ST + 4))).toEqual(Array.from(frozen));
    observedFakeQuantBackward(a, DX, G, X, QP, 1, 1, n, QAT_FAKE_QUANT, 0, 255);
    expect(Array.from(a.subarray(DX, DX + n))).toEqual([0, 1, 1, 1, 1, 0]); // -10 and 10 clip
    observedFakeQuantForward(a, Y, X, ST, QP, 1, 1, n, 0, OBSERVER_MOVING_AVERAGE, 0.01, UINT8_AFFINE, 'fused');
    expect(Array.from(a.subarray(Y, Y + n))).toEqual([-10, 0, 0, 0, 0, 10]);
    a.fill(0, DX, DX + n);
    observedFakeQuantBackward(a, DX, G, X, QP, 1, 1, n, 0, 0, 255);
    expect(Array.from(a.subarray(DX, DX + n))).toEqual([1, 1, 1, 1, 1, 1]);
  });
});
