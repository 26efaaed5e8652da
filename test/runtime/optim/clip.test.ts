// clipGradNorm / gradNorm against torch.nn.utils.clip_grad_norm_'s definition, on a sub-range of
// an arena (sentinels around it must stay untouched).
import { describe, expect, it } from 'vitest';
import { checkClipOptions, clipGradNorm, gradNorm } from '../../../runtime/optim/clip.js';
import { EdgennError } from '../../../runtime/errors.js';
import { expectClose } from '../../helpers/reference.js';

const S = -777;
/** arena = [S, S, ...grads, S, S]; grads at offset 2 */
function arena(grads: number[]): Float32Array {
  return new Float32Array([S, S, ...grads, S, S]);
}
function grads(a: Float32Array): number[] { return Array.from(a.subarray(2, a.length - 2)); }
function sentinelsIntact(a: Float32Array): boolean {
  return a[0] === S && a[1] === S && a[a.length - 1] === S && a[a.length - 2] === S;
}

describe('gradNorm', () => {
  // Tolerance: exact or 1e-12 relative: float64 accumulation over a handful of float32 values.
  it('L2, L1, inf and p-norms of a sub-range', () => {
    const a = arena([3, -4, 0, 12]);
    expect(gradNorm(a, 2, 4)).toBe(13);                        // sqrt(9 + 16 + 144)
    expect(gradNorm(a, 2, 2)).toBe(5);                         // a sub-range: [3, -4]
    expect(gradNorm(a, 2, 4, 1)).toBe(19);
    expect(gradNorm(a, 2, 4, 'inf')).toBe(12);
    expect(gradNorm(a, 2, 4, Infinity)).toBe(12);
    expect(gradNorm(a, 2, 4, 3)).toBeCloseTo(Math.cbrt(27 + 64 + 1728), 12);
    expect(gradNorm(a, 2, 0)).toBe(0);
  });

  it('NaN propagates (also through the max norm), an invalid p gives NaN', () => {
    const a = arena([1, NaN, 2]);
    expect(gradNorm(a, 2, 3)).toBeNaN();
    expect(gradNorm(a, 2, 3, 'inf')).toBeNaN();
    expect(gradNorm(arena([1, 2]), 2, 2, 0)).toBeNaN();
  });
});

describe('clipGradNorm', () => {
  it('scales by maxNorm / (total + 1e-6) and returns the norm before clipping', () => {
    const a = arena([3, -4, 0]);
    const total = clipGradNorm(a, 2, 3, 1);
    expect(total).toBe(5);
    // Tolerance 1e-7 abs: grads * coef with coef = 1/(5 + 1e-6) in float32 (ulp of 0.8 ~ 6e-8)
    const coef = 1 / (5 + 1e-6);
    expectClose('grads', grads(a), [3 * coef, -4 * coef, 0], { abs: 1e-7, rel: 0 });
    expect(gradNorm(a, 2, 3)).toBeCloseTo(1, 6);
    expect(sentinelsIntact(a)).toBe(true);
  });

  it('the coefficient is torch\'s float32 reciprocal(total + 1e-6) * maxNorm', () => {
    // exact: torch computes the clip coefficient as float32 tensors
    const g = [0.3, -1.7, 2.25, 0.01, -0.5];
    const a = arena(g);
    const total = clipGradNorm(a, 2, g.length, 0.5);
    const t32 = Math.fround(total);
    const coef = Math.fround(Math.fround(1 / Math.fround(t32 + Math.fround(1e-6))) * Math.fround(0.5));
    expect(grads(a)).toEqual(g.map((x) => Math.fround(Math.fround(x) * coef)));
  });

  it('is a bit-exact no-op when the norm is under maxNorm', () => {
    const g = [0.1, -0.2, 0.3];
    const a = arena(g), before = Array.from(a);
    const total = clipGradNorm(a, 2, 3, 1);
    expect(total).toBeCloseTo(Math.sqrt(0.14), 7);
    expect(Array.from(a)).toEqual(before);
  });

  it('inf norm: clips by the largest magnitude', () => {
    const a = arena([0.5, -8, 2]);
    expect(clipGradNorm(a, 2, 3, 2, 'inf')).toBe(8);
    // Tolerance 1e-6 abs: float32 coef 2/(8+1e-6) on values <= 2
    expectClose('grads', grads(a), [0.125, -2, 0.5], { abs: 1e-6, rel: 0 });
  });

  it('a sub-range is clipped alone; the rest of the arena is untouched', () => {
    const a = new Float32Array([9, 9, 6, 8, 9, 9]);
    expect(clipGradNorm(a, 2, 2, 5)).toBe(10);
    expect(a[0]).toBe(9); expect(a[1]).toBe(9); expect(a[4]).toBe(9); expect(a[5]).toBe(9);
    expectClose('clipped', [a[2]!, a[3]!], [3, 4], { abs: 1e-6, rel: 0 });
  });

  it('like torch, a NaN norm makes every gradient NaN', () => {
    const a = arena([1, NaN, 2]);
    expect(clipGradNorm(a, 2, 3, 1)).toBeNaN();
    expect(grads(a).every(Number.isNaN)).toBe(true);
  });

  it('checkClipOptions rejects bad options with ARG', () => {
    for (const [m, p] of [[0, 2], [-1, 2], [NaN, 2], [1, 0], [1, -2]] as [number, number][]) {
      let err: unknown;
      try { checkClipOptions(m, p); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(EdgennError);
      expect((err as EdgennError).code).toBe('ARG');
    }
    expect(() => checkClipOptions(1, 'inf')).not.toThrow();
    expect(() => checkClipOptions(0.5)).not.toThrow();
  });
});
