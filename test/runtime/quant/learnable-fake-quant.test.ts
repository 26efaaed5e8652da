// learnable-fake-quant.ts (LSQ): fast kernels vs naive twins (exact: same float32 operations in
// the same order), LSQ gradients vs central finite differences of the surrogate that defines
// them, and the two zero-point rounding rules of PyTorch's per-tensor vs per-channel backward.
import { describe, it, expect } from 'vitest';
import { Rng } from '../../../runtime/random.js';
import { expectClose } from '../../helpers/reference.js';
import {
  lsqForward, lsqForwardRef, lsqPerTensorBackward, lsqPerChannelBackward, lsqBackwardRef, lsqGradFactor, lsqClampScale,
} from '../../../runtime/quant/learnable-fake-quant.js';
import { roundHalfEven } from '../../../runtime/quant/fake-quant.js';
import { channelView } from '../../../runtime/quant/qparams.js';

const exact = { abs: 0, rel: 0 };

function setup(rng: Rng, shape: number[], axis: number, qmin: number, qmax: number) {
  const { outer, C, inner } = channelView(shape, axis);
  const n = outer * C * inner;
  const a = new Float32Array(4 * n + 4 * C);
  const X = 0, Y = n, G = 2 * n, DX = 3 * n, S = 4 * n, Z = S + C, DS = Z + C, DZ = DS + C;
  for (let c = 0; c < C; c++) {
    a[S + c] = rng.uniform(0.02, 0.3);
    a[Z + c] = rng.uniform(qmin, qmax); // fractional zero points, some odd after rounding
  }
  for (let i = 0; i < n; i++) {
    const c = Math.floor(i / inner) % C;
    a[X + i] = i % 4 === 0 ? Math.fround((rng.int(40) - 20 + 0.5) * a[S + c]!) : rng.normal() * 2;
    a[G + i] = rng.normal();
  }
  return { a, n, outer, C, inner, X, Y, G, DX, S, Z, DS, DZ };
}

describe('LSQ kernels vs naive twins', () => {
  const rng = new Rng(21);
  for (const [qmin, qmax] of [[-128, 127], [0, 255], [-8, 7], [0, 15]] as const) {
    it(`per tensor ${qmin}..${qmax}`, () => {
      const t = setup(rng, [97], 0, qmin, qmax);
      const r = t.a.slice();
      lsqForward(t.a, t.Y, t.X, t.S, t.Z, 1, 1, t.n, qmin, qmax);
      lsqForwardRef(r, t.Y, t.X, t.S, t.Z, 1, 1, t.n, qmin, qmax);
      lsqPerTensorBackward(t.a, t.DX, t.DS, t.DZ, t.G, t.X, t.S, t.Z, t.n, qmin, qmax, 0.3);
      lsqBackwardRef(r, t.DX, t.DS, t.DZ, t.G, t.X, t.S, t.Z, 1, 1, t.n, qmin, qmax, 0.3, true);
      expectClose('all', t.a, r, exact);
    });
    for (const axis of [0, 1, 2]) {
      it(`per channel axis ${axis} ${qmin}..${qmax}`, () => {
        const t = setup(rng, [3, 4, 5], axis, qmin, qmax);
        const r = t.a.slice();
        lsqForward(t.a, t.Y, t.X, t.S, t.Z, t.outer, t.C, t.inner, qmin, qmax);
        lsqForwardRef(r, t.Y, t.X, t.S, t.Z, t.outer, t.C, t.inner, qmin, qmax);
        lsqPerChannelBackward(t.a, t.DX, t.DS, t.DZ, t.G, t.X, t.S, t.Z, t.outer, t.C, t.inner, qmin, qmax, 1);
        lsqBackwardRef(r, t.DX, t.DS, t.DZ, t.G, t.X, t.S, t.Z, t.outer, t.C, t.inner, qmin, qmax, 1, false);
        expectClose('all', t.a, r, exact);
      });
    }
  }
});

describe('LSQ gradients vs finite differences', () => {
  // LSQ's gradients are exact derivatives of a surrogate where each element's rounding is frozen
  // at its current code Q0 = round(zp_b + x/s0) and continues with slope 1 (the STE):
  //   f(x, s, z) = (clamp(Q0 + (z - zp_b) + (x/s - x0/s0), qmin, qmax) - z) * s
  // L = sum_i g_i f_i. Away from kinks (Q0 = qmin or qmax) f is linear in x and z and smooth in s,
  // so a central difference with h = 1e-4 in float64 is exact to ~1e-11. The kernel runs in
  // float32 (about 6 roundings of 2^-24 per term), so the tolerance is 1e-6 * sum_i |term_i| + 1e-9.
  const rng = new Rng(33);
  for (const [qmin, qmax, perTensor] of [[-8, 7, true], [0, 255, true], [-128, 127, false], [0, 15, false]] as const) {
    it(`${perTensor ? 'per tensor' : 'per channel'} ${qmin}..${qmax}`, () => {
      const shape = perTensor ? [50] : [4, 13];
      const t = setup(rng, shape, 0, qmin, qmax);
      const { outer, C, inner } = perTensor ? { outer: 1, C: 1, inner: t.n } : t;
      const gf = 0.7;
      const zpB = (c: number): number => perTensor
        ? Math.trunc(Math.min(Math.max(Math.fround(t.a[t.Z + c]! + 0.5), qmin), qmax))
        : Math.min(Math.max(roundHalfEven(t.a[t.Z + c]!), qmin), qmax);
      const code = (k: number, c: number): number =>
        roundHalfEven(Math.fround(zpB(c) + Math.fround(t.a[t.X + k]! * Math.fround(1 / t.a[t.S + c]!))));
      // move elements off the kinks
      for (let k = 0; k < t.n; k++) {
        const c = Math.floor(k / inner) % C;
        while (code(k, c) === qmin || code(k, c) === qmax) t.a[t.X + k] = Math.fround(rng.normal() * 2);
      }
      if (perTensor) lsqPerTensorBackward(t.a, t.DX, t.DS, t.DZ, t.G, t.X, t.S, t.Z, t.n, qmin, qmax, gf);
      else lsqPerChannelBackward(t.a, t.DX, t.DS, t.DZ, t.G, t.X, t.S, t.Z, outer, C, inner, qmin, qmax, gf);
      const h = 1e-4;
      for (let c = 0; c < C; c++) {
        const s0 = t.a[t.S + c]!, zb = zpB(c);
        const L = (s: number, z: number): number => {
          let sum = 0;
          for (let k = 0; k < t.n; k++) {
            if (Math.floor(k / inner) % C !== c) continue;
            const x = t.a[t.X + k]!, q0 = code(k, c);
            const u = Math.min(Math.max(q0 + (z - zb) + (x / s - x / s0), qmin), qmax);
            sum += t.a[t.G + k]! * (u - z) * s;
          }
          return sum;
        };
        let mag = 0;
        for (let k = 0; k < t.n; k++) {
          if (Math.floor(k / inner) % C === c) mag += Math.abs(t.a[t.G + k]!) * (qmax - qmin + Math.abs(t.a[t.X + k]! / s0));
        }
        const tol = 1e-6 * mag + 1e-9;
        const fdS = gf * (L(s0 + h, zb) - L(s0 - h, zb)) / (2 * h);
        const fdZ = gf * (L(s0, zb + h) - L(s0, zb - h)) / (2 * h);
        expect(Math.abs(t.a[t.DS + c]! - fdS), `dscale[${c}] ${t.a[t.DS + c]} vs ${fdS}`).toBeLessThanOrEqual(tol);
        expect(Math.abs(t.a[t.DZ + c]! - fdZ), `dzero_point[${c}] ${t.a[t.DZ + c]} vs ${fdZ}`).toBeLessThanOrEqual(tol);
      }
      // dx: slope 1 inside, 0 where clipped (checked on the same surrogate, per element)
      for (let k = 0; k < t.n; k++) {
        const c = Math.floor(k / inner) % C;
        const inside = code(k, c) > qmin && code(k, c) < qmax;
        expect(t.a[t.DX + k], `dx[${k}]`).toBe(inside ? t.a[t.G + k]! : 0);
      }
    });
  }
});

describe('zero-point rounding: per-tensor backward differs from forward (PyTorch 1.13 source)', () => {
  // _get_zero_point_from_tensor(is_forward=false) = int(clamp(zp + 0.5f)); the forward uses
  // nearbyint. The per-channel op rounds half to even in both. Reference cases use zero points
  // where the rules agree, so this pins the rule read from FakeQuantPerTensorAffine.cpp.
  function run(zp: number, x: number, perTensor: boolean): { y: number; dx: number; dz: number } {
    const a = new Float32Array([x, 0, 1, 0, 0.1, zp, 0, 0]);
    lsqForward(a, 1, 0, 4, 5, 1, 1, 1, -8, 7);
    if (perTensor) lsqPerTensorBackward(a, 3, 6, 7, 2, 0, 4, 5, 1, -8, 7, 1);
    else lsqPerChannelBackward(a, 3, 6, 7, 2, 0, 4, 5, 1, 1, 1, -8, 7, 1);
    return { y: a[1]!, dx: a[3]!, dz: a[7]! };
  }
  it('zp 2.5: forward uses 2, per-tensor backward 3, per-channel backward 2', () => {
    const x = Math.fround(0.52); // x/s = 5.2: code 7 with zp 2 (inside), 8 with zp 3 (clipped)
    expect(run(2.5, x, true).y).toBe(Math.fround(5 * Math.fround(0.1)));
    expect(run(2.5, x, true)).toMatchObject({ dx: 0, dz: Math.fround(-0.1) });
    expect(run(2.5, x, false)).toMatchObject({ dx: 1, dz: 0 });
  });
  it('zp -0.7: forward uses -1, per-tensor backward truncates -0.2 to 0', () => {
    const x = Math.fround(-0.72); // x/s = -7.2: code -8 with zp -1 (inside), -7 with zp 0 (inside)
    const x2 = Math.fround(0.75); // x/s = 7.5 -> 8 with zp 0 (clipped); 7.5 - 1 = 6.5 -> 6 (zp -1, inside)
    expect(run(-0.7, x, true).dx).toBe(1);
    expect(run(-0.7, x2, true).dx).toBe(0);
    expect(run(-0.7, x2, false).dx).toBe(1);
  });
});

describe('helpers', () => {
  it('lsqGradFactor is 1/sqrt(numel * qmax)', () => {
    expect(lsqGradFactor(48, 127)).toBeCloseTo(1 / Math.sqrt(48 * 127), 15);
  });
  it('lsqClampScale raises small and NaN scales to eps', () => {
    const a = new Float32Array([0.5, 1e-9, -1, NaN]);
    lsqClampScale(a, 0, 4, 2 ** -23);
    expect(Array.from(a)).toEqual([0.5, 2 ** -23, 2 ** -23, 2 ** -23]);
  });
});
