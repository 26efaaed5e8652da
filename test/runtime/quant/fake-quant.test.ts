// fake-quant.ts: rounding (half to even) on exact ties, the fast kernel against its naive twin on
// every axis of a 3-D tensor, saturation and non-finite inputs, the 'torch' vs 'onnx' quotient,
// backward accumulation, and the STE against finite differences of its defining surrogate.
// Tolerances: twin comparisons are exact (same float32 operations, one rounding each); the FD
// check uses abs 1e-6 + rel 1e-5 on a float64 surrogate (truncation O(h^2) with h = 1e-4 on a
// piecewise-linear function: exact away from kinks, which the test avoids).
import { describe, it, expect } from 'vitest';
import { Rng } from '../../../runtime/random.js';
import { expectClose } from '../../helpers/reference.js';
import {
  roundHalfEven, fakeQuantCode, fakeQuantForward, fakeQuantBackward, fakeQuantForwardRef, fakeQuantBackwardRef,
} from '../../../runtime/quant/fake-quant.js';
import { channelView } from '../../../runtime/quant/qparams.js';

const exact = { abs: 0, rel: 0 };

describe('round half to even', () => {
  it('rounds exact ties to the even neighbour', () => {
    const cases: [number, number][] = [[0.5, 0], [1.5, 2], [2.5, 2], [3.5, 4], [-0.5, -0], [-1.5, -2], [-2.5, -2], [-3.5, -4],
      [127.5, 128], [-128.5, -128], [254.5, 254], [255.5, 256], [0.49999999999999994, 0], [2.5000000000000004, 3], [-2.4999999999999996, -2]];
    for (const [v, r] of cases) expect(roundHalfEven(v), `rhe(${v})`).toBe(r);
  });
  it('the kernel rounds ties the same way (scale 1: codes are the inputs rounded)', () => {
    const xs = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5, -127.5, 3.4999998, 3.5000002];
    const a = new Float32Array(2 * xs.length + 2);
    a.set(xs); a[2 * xs.length] = 1; a[2 * xs.length + 1] = 0;
    fakeQuantForward(a, xs.length, 0, 2 * xs.length, 2 * xs.length + 1, 1, 1, xs.length, -128, 127);
    expect(Array.from(a.subarray(xs.length, 2 * xs.length))).toEqual([0, 2, 2, 0, -2, -2, 126, -128, 3, 4]) // +0 for -0.5: the code is an integer (int64 in PyTorch);
  });
  it('uint8 scale 0.25, zp 3: half-steps of the grid land on even codes', () => {
    // x = (k + 0.5) * 0.25 is exactly representable, x * 4 = k + 0.5 exactly: a true tie
    const a = new Float32Array(8);
    a[6] = 0.25; a[7] = 3;
    a.set([0.125, 0.375, 0.625, -0.125, -0.375, -0.625], 0);
    const codes = Array.from(a.subarray(0, 6), (v) => fakeQuantCode(v, 0.25, 3));
    expect(codes).toEqual([3, 5, 5, 3, 1, 1]);
  });
});

describe('fast kernel vs naive twin', () => {
  const rng = new Rng(7);
  const shape = [3, 5, 7];
  for (const mode of ['torch', 'onnx'] as const) {
    for (const axis of [0, 1, 2, -1]) {
      for (const [qmin, qmax] of [[-128, 127], [-127, 127], [0, 255], [0, 127], [-8, 7], [0, 3]] as const) {
        it(`${mode} axis ${axis} range ${qmin}..${qmax}`, () => {
          const { outer, C, inner } = channelView(shape, axis);
          const n = outer * C * inner;
          const a = new Float32Array(4 * n + 2 * C);
          const X = 0, Y = n, G = 2 * n, DX = 3 * n, S = 4 * n, Z = 4 * n + C;
          for (let c = 0; c < C; c++) {
            a[S + c] = rng.uniform(0.01, 0.2);
            a[Z + c] = qmin + rng.int(qmax - qmin + 1);
          }
          for (let i = 0; i < n; i++) {
            // a third of the values sit exactly on half-steps of their channel's grid
            const c = Math.floor(i / inner) % C;
            a[X + i] = i % 3 === 0 ? Math.fround((rng.int(300) - 150 + 0.5) * a[S + c]!) : rng.normal() * 3;
            a[G + i] = rng.normal();
          }
          const r = a.slice();
          fakeQuantForward(a, Y, X, S, Z, outer, C, inner, qmin, qmax, mode);
          fakeQuantForwardRef(r, Y, X, S, Z, outer, C, inner, qmin, qmax, mode);
          expectClose('y', a.subarray(Y, Y + n), r.subarray(Y, Y + n), exact);
          fakeQuantBackward(a, DX, G, X, S, Z, outer, C, inner, qmin, qmax, mode);
          fakeQuantBackwardRef(r, DX, G, X, S, Z, outer, C, inner, qmin, qmax, mode);
          expectClose('dx', a.subarray(DX, DX + n), r.subarray(DX, DX + n), exact);
        });
      }
    }
  }
});

describe('saturation and non-finite inputs', () => {
  it('clamps far values and infinities, closes the mask there, propagates NaN', () => {
    const xs = [1e30, -1e30, 1e4, -1e4, Infinity, -Infinity, NaN, 0, -0];
    const n = xs.length;
    const a = new Float32Array(4 * n + 2);
    a.set(xs); a[4 * n] = 0.1; a[4 * n + 1] = 10;
    a.fill(1, 2 * n, 3 * n);
    fakeQuantForward(a, n, 0, 4 * n, 4 * n + 1, 1, 1, n, 0, 255);
    fakeQuantBackward(a, 3 * n, 2 * n, 0, 4 * n, 4 * n + 1, 1, 1, n, 0, 255);
    const s = a[4 * n]!;
    const hi = Math.fround(245 * s), lo = Math.fround(-10 * s);
    expect(Array.from(a.subarray(n, 2 * n - 3))).toEqual([hi, lo, hi, lo, hi, lo]);
    expect(Number.isNaN(a[2 * n - 3]!)).toBe(true);
    expect(a[2 * n - 2]).toBe(0);
    expect(Array.from(a.subarray(3 * n, 4 * n))).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 1]);
  });
  it('the clip edges: codes qmin and qmax pass the gradient, one step beyond does not', () => {
    const s = 0.5, zp = 0;
    const xs = [-64, -64.5, -64.25, 63.5, 63.75, 64];
    const a = new Float32Array(3 * xs.length + 2);
    a.set(xs); a[3 * xs.length] = s; a[3 * xs.length + 1] = zp;
    a.fill(1, xs.length, 2 * xs.length);
    fakeQuantBackward(a, 2 * xs.length, xs.length, 0, 3 * xs.length, 3 * xs.length + 1, 1, 1, xs.length, -128, 127);
    // x/s: -128 (in), -129 (out), -128.5 -> -128 (in), 127 (in), 127.5 -> 128 (out), 128 (out)
    expect(Array.from(a.subarray(2 * xs.length, 3 * xs.length))).toEqual([1, 0, 1, 1, 0, 0]);
  });
});

describe("'torch' multiplies by 1/scale, 'onnx' divides", () => {
  it('finds inputs where the two quotients round to different codes, and nowhere else differ', () => {
    // scale 0.1 is not a power of two, so x * fl(1/0.1) != fl(x / 0.1) for some x near half-steps
    const s = Math.fround(0.1);
    let differ = 0;
    for (let k = -1280; k < 1280; k++) {
      for (const eps of [-2, -1, 0, 1, 2]) {
        // float32 neighbours of the exact half-step (k + 0.5) * s
        const mid = Math.fround((k + 0.5) * s);
        const buf = new Float32Array([mid]);
        const bits = new Int32Array(buf.buffer);
        bits[0] = bits[0]! + eps;
        const x = buf[0]!;
        const qt = fakeQuantCode(x, s, 0, 'torch'), qo = fakeQuantCode(x, s, 0, 'onnx');
        expect(Math.abs(qt - qo)).toBeLessThanOrEqual(1);
        if (qt !== qo) differ++;
      }
    }
    expect(differ).toBeGreaterThan(0); // the documented difference is real
  });
  it('agree everywhere for a power-of-two scale (1/s is exact)', () => {
    const rng = new Rng(3);
    for (let i = 0; i < 20000; i++) {
      const x = Math.fround(rng.normal() * 40);
      expect(fakeQuantCode(x, 0.125, 3, 'torch')).toBe(fakeQuantCode(x, 0.125, 3, 'onnx'));
    }
  });
});

describe('backward', () => {
  it('accumulates into dx (+=) instead of overwriting', () => {
    const a = new Float32Array([0.3, -0.2, 5, 1, 1, 1, 10, 20, 30, 0.1, 0]);
    fakeQuantBackward(a, 6, 3, 0, 9, 10, 1, 1, 3, -8, 7);
    expect(Array.from(a.subarray(6, 9))).toEqual([11, 21, 30]);
  });
  it('matches central finite differences of the STE surrogate (round frozen at its value, slope 1 inside)', () => {
    // surrogate: f(x) = (clamp(r0 + (x*inv - u0) + zp, qmin, qmax) - zp) * s, r0 = round(u0), u0 = x0*inv
    const rng = new Rng(5);
    const n = 64, s = Math.fround(0.05), zp = 3, qmin = -8, qmax = 7;
    const a = new Float32Array(3 * n + 2);
    a[3 * n] = s; a[3 * n + 1] = zp;
    for (let i = 0; i < n; i++) {
      // stay away from the surrogate's kinks: they sit where the frozen code equals qmin or qmax
      const code = (v: number): number => fakeQuantCode(v, s, zp);
      let x = Math.fround(rng.uniform(-0.8, 0.6));
      while (code(x) === qmin || code(x) === qmax) x = Math.fround(rng.uniform(-0.8, 0.6));
      a[i] = x; a[n + i] = 1;
    }
    fakeQuantBackward(a, 2 * n, n, 0, 3 * n, 3 * n + 1, 1, 1, n, qmin, qmax);
    const inv = 1 / s, h = 1e-4;
    for (let i = 0; i < n; i++) {
      const x0 = a[i]!, u0 = x0 * inv, r0 = roundHalfEven(Math.fround(x0 * Math.fround(1 / s)));
      const f = (x: number): number => (Math.min(Math.max(r0 + (x * inv - u0) + zp, qmin), qmax) - zp) * s;
      const fd = (f(x0 + h) - f(x0 - h)) / (2 * h);
      expect(Math.abs(a[2 * n + i]! - fd), `dx at ${i}`).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(fd));
    }
  });
});
