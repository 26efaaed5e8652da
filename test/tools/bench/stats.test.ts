// The benchmark's statistics helpers against hand-computed values (numpy's default, type-7
// linear interpolation: np.percentile(x, q) and np.median give the same numbers).
// Tolerance: exact, or 1e-12 where the interpolation does floating-point arithmetic on small
// integers (the only error is one rounding of a double).
import { describe, it, expect } from 'vitest';
import { iqr, mad, median, p99, quantile, summarize } from '../../../tools/bench/stats.js';

describe('bench statistics', () => {
  it('median of odd and even counts, unsorted input', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });

  it('sorts numerically, not as strings, and leaves the input untouched', () => {
    const xs = [10, 9, 100, 2];
    expect(median(xs)).toBe(9.5); // a string sort would give [10, 100, 2, 9] → 50
    expect(xs).toEqual([10, 9, 100, 2]);
    const f = new Float64Array([5, 1, 3]);
    expect(median(f)).toBe(3);
    expect(Array.from(f)).toEqual([5, 1, 3]);
  });

  it('p99 interpolates like numpy: np.percentile(1..100, 99) = 99.01', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // reversed on purpose
    expect(p99(xs)).toBeCloseTo(99.01, 12);
    // with fewer than 100 samples it lies between the two largest values
    const small = [1, 2, 3, 4, 50, 60];
    const q = p99(small);
    expect(q).toBeGreaterThan(50);
    expect(q).toBeLessThan(60);
    expect(q).toBeCloseTo(50 + 0.95 * 10, 12); // h = 5 * 0.99 = 4.95
  });

  it('quantile edges: p = 0 is the min, p = 1 the max, empty input is NaN', () => {
    expect(quantile([4, 2, 8], 0)).toBe(2);
    expect(quantile([4, 2, 8], 1)).toBe(8);
    expect(median([])).toBeNaN();
    expect(p99([])).toBeNaN();
  });

  it('IQR: np.percentile(1..8, [25, 75]) = [2.75, 6.25] → 3.5', () => {
    expect(iqr([8, 7, 6, 5, 4, 3, 2, 1])).toBeCloseTo(3.5, 12);
    expect(iqr([5, 5, 5, 5])).toBe(0);
  });

  it('MAD: median |x - median| of [1, 1, 2, 2, 4, 6, 9] is 1', () => {
    expect(mad([1, 1, 2, 2, 4, 6, 9])).toBe(1);
    expect(mad([3, 3, 3])).toBe(0);
  });

  it('summarize agrees with the single helpers', () => {
    const xs = [12, 3, 7, 7, 1, 40, 5, 9, 2, 6];
    const s = summarize(xs);
    expect(s.n).toBe(10);
    expect(s.median).toBe(median(xs));
    expect(s.p99).toBe(p99(xs));
    expect(s.iqr).toBe(iqr(xs));
    expect(s.mad).toBe(mad(xs));
    expect(s.min).toBe(1);
    expect(s.max).toBe(40);
    expect(s.mean).toBeCloseTo(9.2, 12);
  });
});
