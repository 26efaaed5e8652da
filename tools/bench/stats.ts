// Summary statistics of benchmark samples: median, quantiles (p99), IQR and MAD. Plain functions
// over number arrays; they sort a copy and never touch the caller's array. NOT used inside timed
// loops (they allocate), only after them.
//
// Quantiles interpolate linearly between order statistics (Hyndman–Fan type 7, numpy's and R's
// default): q(p) = x[h] + (h - floor(h)) * (x[h+1] - x[h]) with h = (n - 1) * p on sorted x.

/** Sorted ascending copy (numeric order, not string order). */
export function sortedCopy(xs: ArrayLike<number>): number[] {
  const s = Array.from(xs);
  s.sort((a, b) => a - b);
  return s;
}

/** Quantile p in [0, 1] of already-sorted values; NaN for an empty array. */
export function quantileSorted(sorted: readonly number[], p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (p <= 0) return sorted[0]!;
  if (p >= 1) return sorted[n - 1]!;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

export function quantile(xs: ArrayLike<number>, p: number): number {
  return quantileSorted(sortedCopy(xs), p);
}

export function median(xs: ArrayLike<number>): number {
  return quantile(xs, 0.5);
}

/** 99th percentile. With fewer than 100 samples it lies between the two largest values. */
export function p99(xs: ArrayLike<number>): number {
  return quantile(xs, 0.99);
}

/** Interquartile range q(0.75) - q(0.25). */
export function iqr(xs: ArrayLike<number>): number {
  const s = sortedCopy(xs);
  return quantileSorted(s, 0.75) - quantileSorted(s, 0.25);
}

/** Median absolute deviation from the median (unscaled: no 1.4826 normal-consistency factor). */
export function mad(xs: ArrayLike<number>): number {
  const m = median(xs);
  const dev = Array.from(xs, (x) => Math.abs(x - m));
  return median(dev);
}

export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly p99: number;
  readonly iqr: number;
  readonly mad: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
}

export function summarize(xs: ArrayLike<number>): Summary {
  const s = sortedCopy(xs);
  const n = s.length;
  const med = quantileSorted(s, 0.5);
  let sum = 0;
  for (const v of s) sum += v;
  return {
    n,
    median: med,
    p99: quantileSorted(s, 0.99),
    iqr: quantileSorted(s, 0.75) - quantileSorted(s, 0.25),
    mad: median(s.map((v) => Math.abs(v - med))),
    min: n > 0 ? s[0]! : NaN,
    max: n > 0 ? s[n - 1]! : NaN,
    mean: n > 0 ? sum / n : NaN,
  };
}
