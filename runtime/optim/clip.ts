// Gradient norms and clipping by total norm (torch.nn.utils.clip_grad_norm_), over one
// contiguous gradient range of the arena. Not here: per-value clipping, the trainer's choice of
// ranges (it calls gradNorm per layer for its reports, clipGradNorm once over the whole slab).
//
//   a[g .. g+n)   gradients (clipGradNorm scales them in place)
//
// Norms are accumulated in float64 over the range at once. torch takes a float32 norm of each
// tensor and then the norm of those norms: the same value up to float32 summation error.
// Neither function allocates or throws; options are checked once by checkClipOptions.
import { EdgennError } from '../errors.js';

/** p of the p-norm: a number > 0 (Infinity allowed), or 'inf' for the max-abs norm. */
export type NormType = number | 'inf';

/** The normType-norm of a[g .. g+n): float64, NaN if any gradient is NaN, 0 for n = 0, NaN for
 *  an invalid normType (<= 0 or NaN). */
export function gradNorm(a: Float32Array, g: number, n: number, normType: NormType = 2): number {
  const q = normType === 'inf' ? Infinity : normType;
  if (!(q > 0)) return NaN;
  if (q === Infinity) {
    let m = 0;
    for (let i = 0; i < n; i++) {
      const v = Math.abs(a[g + i]);
      if (v > m || v !== v) m = v;                        // once NaN, stays NaN (as torch max)
    }
    return m;
  }
  let sum = 0;
  if (q === 2) {
    for (let i = 0; i < n; i++) { const v = a[g + i]; sum += v * v; }
    return Math.sqrt(sum);
  }
  if (q === 1) {
    for (let i = 0; i < n; i++) sum += Math.abs(a[g + i]);
    return sum;
  }
  for (let i = 0; i < n; i++) sum += Math.pow(Math.abs(a[g + i]), q);
  return Math.pow(sum, 1 / q);
}

/** torch.nn.utils.clip_grad_norm_ over a[g .. g+n): total = gradNorm(...); coef = maxNorm /
 *  (total + 1e-6) clamped to at most 1; grads *= coef (skipped when coef is 1, so a norm under
 *  maxNorm leaves the grads bit-identical). Returns the total norm before clipping (float64).
 *  NOTE: like torch (error_if_nonfinite=False) a NaN total turns every gradient into NaN and an
 *  infinite total zeroes the finite ones: check the returned norm with Number.isFinite. */
export function clipGradNorm(a: Float32Array, g: number, n: number, maxNorm: number, normType: NormType = 2): number {
  const total = gradNorm(a, g, n, normType);
  if (n === 0) return total;
  // the coefficient is torch's float32 tensor arithmetic: (total + 1e-6) rounds, the Python
  // `max_norm / tensor` is reciprocal() * max_norm, each rounding to float32.
  const denom = Math.fround(Math.fround(total) + Math.fround(1e-6));
  const raw = Math.fround(Math.fround(1 / denom) * Math.fround(maxNorm));
  const coef = raw > 1 ? 1 : raw;                          // clamp(max=1); NaN stays NaN
  if (coef !== 1) {
    for (let i = 0; i < n; i++) a[g + i] *= coef;          // the store rounds to float32
  }
  return total;
}

/** Checks clipping options once, where they are configured (the kernels above never throw). */
export function checkClipOptions(maxNorm: number, normType: NormType = 2): void {
  if (typeof maxNorm !== 'number' || !Number.isFinite(maxNorm) || !(maxNorm > 0)) {
    throw new EdgennError('ARG', "gradient clipping: invalid option 'maxNorm'", {
      expected: 'a finite number > 0', actual: String(maxNorm),
    });
  }
  if (normType !== 'inf' && (typeof normType !== 'number' || !(normType > 0))) {
    throw new EdgennError('ARG', "gradient clipping: invalid option 'normType'", {
      expected: "a number > 0 or 'inf'", actual: String(normType),
    });
  }
}
